"""OpenAI-compatible servers as models: where they are, their keys, their answers, and
what is sent to them. Qt-free; the engine runs the client in the model-host process."""

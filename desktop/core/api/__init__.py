"""The OpenAI-compatible API the app serves: requests read and checked, answers shaped,
tool calls found in a model's text. Qt-free; the server itself is desktop/engine/api_server."""

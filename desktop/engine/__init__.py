"""The only package that starts threads or processes.

`InferenceEngine` (a QObject in its own QThread) owns a `ModelHost`: a child process that
runs a `Backend` (llama.cpp, or a scripted fake in tests). A crash in llama.cpp ends the
child, never the app.
"""

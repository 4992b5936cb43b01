"""The code sandbox's Qt-free half: limits and their sentences, results, output capture,
where the interpreter and its compiled cache live. The half that starts a process and
runs WebAssembly is `desktop.engine.sandbox`."""

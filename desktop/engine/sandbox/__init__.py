"""The code sandbox: model-written Python runs in CPython compiled to WebAssembly, under
wasmtime, in a child process of its own (`run_code.run_code`). Only that child imports
wasmtime (`wasm_python`); the app's process never loads it."""

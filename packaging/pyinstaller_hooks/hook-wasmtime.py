"""PyInstaller: wasmtime loads its native library (`_libwasmtime.so`, `_wasmtime.dll`,
`_libwasmtime.dylib`, whose names the default `lib*.so*` patterns miss) with ctypes from
`wasmtime/<os>-<arch>/` next to its package; and the code sandbox keys its
compiled-interpreter cache by wasmtime's version, read from its metadata."""

from PyInstaller.utils.hooks import collect_dynamic_libs, copy_metadata

binaries = collect_dynamic_libs("wasmtime", search_patterns=["*.so", "*.dll", "*.dylib"])
datas = copy_metadata("wasmtime")

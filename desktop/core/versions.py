"""The versions of the app's parts, read from their installed metadata - never by
importing them (importing llama_cpp would load llama.cpp into the window's process, which
the app never does). The installer copies these packages' metadata into the frozen app
(packaging/deepdive_lab.spec), so About and --selftest name real versions there too."""

from __future__ import annotations

from importlib import metadata

PARTS = ("deepdive-lab", "PySide6-Essentials", "llama-cpp-python", "numpy", "tiktoken",
         "huggingface-hub", "pyqtgraph", "gguf")  # fmt: skip
MISSING = "not installed"


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return MISSING


def part_versions() -> dict[str, str]:
    return {package: version_of(package) for package in PARTS}

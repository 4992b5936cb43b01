"""The sandbox's child process: one run of one program, then exit.

A process of its own, not a thread of the app, for three reasons measured with this
interpreter: a sleeping program blocks inside wasmtime where nothing but a kill stops it
(`time.sleep(5)` with a stop requested after 1 s still took 5 s); the CPU limit is then
simply this process's CPU time (`time.process_time`, on every OS); and the guest's 256 MB
and wasmtime's runtime go back to the OS when the run ends, whatever happened in it.

The watchdog thread enforces the CPU and disk limits and stops the code through wasmtime's
epoch; the output limit is enforced as the output arrives; the parent enforces the time
limit (and a cancel) by killing this process, which is why the output goes straight to
files it can read afterwards.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from desktop.core.sandbox.capture import OutputBudget, StreamCapture
from desktop.core.sandbox.folder_usage import folder_usage
from desktop.core.sandbox.guest_bootstrap import guest_argv, guest_environment
from desktop.core.sandbox.limits import LimitKind, SandboxLimits
from desktop.core.sandbox.result import GuestReport
from desktop.core.sandbox.runtime_files import SandboxUnavailable

if TYPE_CHECKING:  # the app's process imports this module too, and must not load wasmtime
    import wasmtime

CPU_CHECK_S = 0.01
DISK_CHECK_S = 0.05


@dataclass(frozen=True)
class SandboxJob:
    code: str
    folder: str  # the run's temporary folder: all the code may touch
    stdout_path: str  # outside `folder`: the code cannot see or change its own output
    stderr_path: str
    limits: SandboxLimits
    wasm_path: str
    wasm_sha256: str
    compiled_path: str


class Watchdog:
    """Checks the CPU time and the folder's size while the code runs; stops it once."""

    def __init__(self, engine: wasmtime.Engine, limits: SandboxLimits, folder: Path) -> None:
        self._engine = engine
        self._limits = limits
        self._folder = folder
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._cpu_start = time.process_time()
        self.stopped_for: LimitKind | None = None
        self._thread = threading.Thread(target=self._watch, name="sandbox-watchdog", daemon=True)

    def start(self) -> None:
        self._cpu_start = time.process_time()
        self._thread.start()

    def cpu_seconds(self) -> float:
        return time.process_time() - self._cpu_start

    def stop(self, kind: LimitKind) -> None:
        from desktop.engine.sandbox.wasm_python import stop_running_code

        with self._lock:
            if self.stopped_for is None:
                self.stopped_for = kind
        stop_running_code(self._engine)

    def finish(self) -> None:
        """After the run: one last look at the folder, for code that wrote too much and
        ended between two checks."""
        self._done.set()
        self._thread.join()
        self._check_disk()

    def _check_disk(self) -> None:
        limit = self._limits.disk_bytes
        if folder_usage(self._folder, stop_above=limit) > limit:
            self.stop("disk")

    def _watch(self) -> None:
        next_disk_check = 0.0
        while not self._done.wait(CPU_CHECK_S):
            if self.cpu_seconds() > self._limits.cpu_seconds:
                self.stop("cpu")
            now = time.monotonic()
            if now >= next_disk_check:
                next_disk_check = now + DISK_CHECK_S
                self._check_disk()


def child_main(conn: Connection, job: SandboxJob) -> None:
    _detach_from_terminal_and_parent()
    from desktop.engine.sandbox import wasm_python

    try:
        engine = wasm_python.make_engine()
        module = wasm_python.load_module(
            engine, Path(job.wasm_path), job.wasm_sha256, Path(job.compiled_path),
            on_compile=lambda: conn.send(("compiling",)),
        )  # fmt: skip
    except SandboxUnavailable as exc:
        _finish(conn, ("unavailable", str(exc)))
    except Exception as exc:  # wasmtime refused the module: say what it said
        _finish(conn, ("unavailable", f"The Python sandbox could not start: {exc}"))
    folder = Path(job.folder)
    budget = OutputBudget(job.limits.output_bytes)
    watchdog = Watchdog(engine, job.limits, folder)
    with open(job.stdout_path, "wb", buffering=0) as out_file, \
            open(job.stderr_path, "wb", buffering=0) as err_file:  # fmt: skip
        out = StreamCapture(budget, out_file.write)
        err = StreamCapture(budget, err_file.write, keep_tail=True)

        def on_stdout(data: bytes) -> None:
            if not out.write(data):
                watchdog.stop("output")

        def on_stderr(data: bytes) -> None:
            if not err.write(data):
                watchdog.stop("output")

        conn.send(("started",))
        watchdog.start()
        exit_code, trap = wasm_python.run_program(
            engine, module, argv=guest_argv(job.code), env=guest_environment(), folder=folder,
            memory_bytes=job.limits.memory_bytes, stdout=on_stdout, stderr=on_stderr,
        )  # fmt: skip
        watchdog.finish()
    report = GuestReport(
        exit_code=exit_code,
        trap=trap,
        stopped_for=watchdog.stopped_for,
        stderr_tail=err.tail,
        cpu_seconds=watchdog.cpu_seconds(),
        first_output_at=budget.first_output_at,
    )
    _finish(conn, ("done", report))


def _finish(conn: Connection, message: tuple[object, ...]) -> NoReturn:
    try:
        conn.send(message)
        conn.close()
    finally:
        # No interpreter teardown: wasmtime's runtime threads can panic while Python
        # unloads them, and there is nothing here worth tearing down politely.
        os._exit(0)


def _detach_from_terminal_and_parent() -> None:
    """Ctrl-C is for the app (which kills this process); stdout is the app's, where a
    `run-code --json` prints its JSON, so anything printed here goes to stderr; and when
    the app dies, this process ends too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # a windowed app has no stderr: nothing to move
        os.dup2(2, 1)
    parent = multiprocessing.parent_process()
    if parent is not None:

        def watch() -> None:
            parent.join()
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()

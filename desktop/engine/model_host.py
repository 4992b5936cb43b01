"""Parent side of the model-host process: start it, talk to it, and kill it when needed.

Qt-free and single-threaded: only the engine thread uses a ModelHost.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import signal
from multiprocessing.connection import Connection
from typing import Any, cast

from desktop.engine.host_process import serve
from desktop.engine.protocol import HostEvent

LLAMA_BACKEND = "desktop.engine.llama_backend:LlamaCppBackend"


class HostDied(RuntimeError):
    """The host process ended without being asked to."""


def describe_exit(code: int | None) -> str:
    if code is None:
        return "is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        meaning = {
            "SIGSEGV": "a segmentation fault",
            "SIGABRT": "an abort (often a failed llama.cpp assertion)",
            "SIGKILL": "being killed (out of memory, or stopped by force)",
            "SIGFPE": "an arithmetic fault",
            "SIGBUS": "a bus error (the file changed or the disk failed)",
        }.get(name, name)
        return f"was ended by {meaning} ({name})"
    return f"exited with code {code}"


class ModelHost:
    def __init__(self, factory: str = LLAMA_BACKEND, kwargs: dict[str, Any] | None = None):
        # "spawn" everywhere: forking a process that runs Qt threads is unsafe, and frozen
        # (PyInstaller) apps support spawn through freeze_support().
        self._ctx = multiprocessing.get_context("spawn")
        self._factory = factory
        self._kwargs = dict(kwargs or {})
        # A lock-free shared int, new for every host: a multiprocessing Event takes a lock
        # shared with the child, and a child killed while holding it would freeze Stop.
        self._stop: Any = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def factory(self) -> str:
        return self._factory

    def use_backend(self, factory: str, kwargs: dict[str, Any] | None = None) -> None:
        """Run another backend from the next start on (a remote model after a GGUF): a
        running host of another kind is ended first, so llama.cpp and a remote client
        never share a process."""
        kwargs = dict(kwargs or {})
        if factory == self._factory and kwargs == self._kwargs:
            return
        self.shutdown()
        self._factory, self._kwargs = factory, kwargs

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self.alive:
            return
        parent, child = self._ctx.Pipe(duplex=True)
        self._stop = self._ctx.RawValue(ctypes.c_int, 0)
        process = self._ctx.Process(
            target=serve,
            args=(child, self._stop, self._factory, self._kwargs),
            name="deepdive-model-host",
            daemon=True,
        )
        process.start()
        child.close()  # so recv() sees EOF when the child dies
        self._process, self._conn = process, parent

    def send(self, command: object) -> None:
        """Send a command, clearing any stop left over from the previous one."""
        if self._process is not None and not self._process.is_alive():
            reason = self.exit_reason()  # it died while idle: say so, do not hide it
            self._reset()
            raise HostDied(reason)
        self.start()
        self._stop.value = 0
        try:
            cast(Connection, self._conn).send(command)
        except (BrokenPipeError, OSError) as exc:
            raise HostDied(self.exit_reason()) from exc

    def poll(self, timeout: float) -> HostEvent | None:
        """The next event, or None after `timeout`. Raises HostDied if the child is gone."""
        conn = self._conn
        if conn is None:
            raise HostDied("the model host is not running")
        try:
            if conn.poll(timeout):
                return cast(HostEvent, conn.recv())
        except (EOFError, OSError) as exc:
            raise HostDied(self.exit_reason()) from exc
        if not self.alive:
            raise HostDied(self.exit_reason())
        return None

    def request_stop(self) -> None:
        """Thread-safe: the host checks this between tokens and during model loading."""
        if self._stop is not None:
            self._stop.value = 1

    def exit_reason(self) -> str:
        process = self._process
        if process is None:
            return "the model host is not running"
        process.join(timeout=1.0)
        return f"the model process {describe_exit(process.exitcode)}"

    def kill(self) -> None:
        """Hard stop: for a host that ignores a stop request (long prompt, stuck load)."""
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=5.0)
        self._reset()

    def kill_from_other_thread(self) -> None:
        """Only signals the process; the owning thread sees it die and cleans up."""
        process = self._process
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                process.kill()

    def shutdown(self, timeout: float = 2.0) -> None:
        if self._process is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError):
            cast(Connection, self._conn).send(None)
        if self._stop is not None:
            self._stop.value = 1
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5.0)
        self._reset()

    def _reset(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None

"""The model-host child process: runs one Backend, serves commands from a pipe.

If llama.cpp aborts or segfaults, this process dies and the engine reports it; the app
lives on. When the app dies, the pipe closes and this process exits on its own.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from desktop.core.chat.generation import GenerationStats, TokenEvent
from desktop.engine.protocol import (
    Backend,
    Failed,
    Finished,
    GenerateCommand,
    GenerationError,
    LoadCommand,
    Loaded,
    LoadProgress,
    TokenBatch,
    TokenizeCommand,
    TokenizeResult,
    UnloadCommand,
)

PROGRESS_INTERVAL_S = 0.1
BATCH_INTERVAL_S = 0.05  # tokens faster than 20/s travel together (the GUI renders at 20 Hz)
LOAD_REQUEST_ID = -1


def make_backend(factory: str, kwargs: dict[str, Any]) -> Backend:
    module_name, _, attr = factory.partition(":")
    backend: Backend = getattr(importlib.import_module(module_name), attr)(**kwargs)
    return backend


def exit_with_the_app() -> None:
    """End this process when the app's process ends, even in the middle of a long prompt.

    Ctrl-C in a terminal is for the app, which stops the model itself.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent is gone (its sentinel closes)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def native_output_to_stderr() -> None:
    """Send everything written to this process's stdout to its stderr instead.

    llama.cpp and the libraries under it print straight to file descriptor 1 — on a failed
    assertion ggml even runs gdb, whose ~80 backtrace lines land there — and the host
    shares its stdout with the app: `deepdive-lab … --json` would print them into the JSON.
    stderr is where a log belongs. Done first thing, before any library is loaded."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        os.dup2(2, 1)
    except (OSError, ValueError):  # no stderr at all (a windowed app): nothing to move
        pass
    # and no gdb at all: attaching a debugger to print a backtrace delays the crash report
    # by seconds, and nobody reads it here (the crash itself is reported by the engine)
    os.environ.setdefault("GGML_NO_BACKTRACE", "1")


def serve(conn: Connection, stop: Any, factory: str, kwargs: dict[str, Any]) -> None:
    """Main loop of the child. `stop.value` is set by the engine; only the engine clears it."""
    native_output_to_stderr()
    exit_with_the_app()
    backend = make_backend(factory, kwargs)
    try:
        while True:
            try:
                command = conn.recv()
            except (EOFError, OSError):
                return  # the app is gone
            if command is None:
                return
            try:
                _handle(command, backend, conn, stop)
            except GenerationError as exc:
                conn.send(Failed(_request_id(command), str(exc)))
            except (BrokenPipeError, EOFError):
                return
            except Exception as exc:  # a bug or a library error: report, keep serving
                conn.send(Failed(_request_id(command), f"{type(exc).__name__}: {exc}"))
    finally:
        backend.close()


def _request_id(command: object) -> int:
    if isinstance(command, GenerateCommand):
        return command.request.request_id
    if isinstance(command, TokenizeCommand):
        return command.request_id
    return LOAD_REQUEST_ID


def _handle(command: object, backend: Backend, conn: Connection, stop: Any) -> None:
    if isinstance(command, LoadCommand):
        last = 0.0

        def progress(fraction: float) -> bool:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL_S or fraction >= 1.0:
                last = now
                conn.send(LoadProgress(fraction))
            return bool(stop.value == 0)

        # Only a remote load carries a key, and only the remote backend takes one.
        extra = {"api_key": command.api_key} if command.api_key else {}
        conn.send(Loaded(backend.load(command.path, command.settings, progress, **extra)))
    elif isinstance(command, GenerateCommand):
        _stream(command, backend, conn, stop)
    elif isinstance(command, TokenizeCommand):
        ids, pieces = backend.tokenize(
            command.text, parse_special=command.parse_special, add_bos=command.add_bos
        )
        conn.send(TokenizeResult(command.request_id, tuple(ids), tuple(pieces)))
    elif isinstance(command, UnloadCommand):
        backend.close()
    else:
        raise GenerationError(f"unknown command {type(command).__name__}")


def _stream(command: GenerateCommand, backend: Backend, conn: Connection, stop: Any) -> None:
    """Send tokens in batches: the first at once (time to first token), then every 50 ms.

    A pipe message, a thread wake-up and a Qt signal per token cost a few percent of decode
    speed on two cores; batching removes most of that and the eye cannot tell.
    """
    rid = command.request.request_id
    batch: list[TokenEvent] = []
    last_sent = 0.0
    try:
        for item in backend.stream(command.request, lambda: stop.value != 0):
            if isinstance(item, GenerationStats):
                if batch:
                    conn.send(TokenBatch(rid, tuple(batch)))
                conn.send(Finished(item))
                return
            batch.append(item)
            now = time.monotonic()
            if now - last_sent >= BATCH_INTERVAL_S:
                conn.send(TokenBatch(rid, tuple(batch)))
                batch, last_sent = [], now
    except GenerationError:
        # A reply that fails midway (a remote stream cut) keeps every token it made: the
        # ones still waiting for their batch go out before the failure does.
        if batch:
            conn.send(TokenBatch(rid, tuple(batch)))
        raise

"""Run model-written Python in the sandbox: `run_code(code) -> SandboxResult`.

Blocking, for a worker thread (never the GUI thread) or the command line: it starts a
child process (`sandbox_child`), waits for it, and always cleans up — the child is
killed if still alive, the run's temporary folder removed. `cancel` stops a run within
about 50 ms, whatever the code is doing.

The first run on a machine (or after an update of wasmtime) compiles the interpreter,
15-25 s; `progress("compiling")` says so, and `sandbox_is_compiled()` tells beforehand.
"""

from __future__ import annotations

import multiprocessing
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection, wait
from pathlib import Path

from desktop.core.sandbox.limits import SandboxLimits
from desktop.core.sandbox.result import (
    CANCELLED_SENTENCE,
    GuestReport,
    SandboxResult,
    summarise,
)
from desktop.core.sandbox.runtime_files import (
    WASM_SHA256,
    SandboxUnavailable,
    compiled_path,
    wasm_path,
)
from desktop.engine.sandbox.sandbox_child import SandboxJob, child_main

POLL_S = 0.05  # how often a cancel is looked at while the child runs
PREPARE_TIMEOUT_S = 600.0  # a first compile on a slow, busy laptop, with room to spare
RUN_FOLDER_PREFIX = "deepdive-sandbox-"

Progress = Callable[[str], None]


@dataclass
class _Outcome:
    report: GuestReport | None = None
    unavailable: str | None = None
    died: str | None = None
    timed_out: bool = False
    cancelled: bool = False


def sandbox_is_compiled() -> bool:
    """Whether the next run starts at once (False: it compiles the interpreter first)."""
    return compiled_path().exists()


def prepare_sandbox(cancel: threading.Event | None = None,
                    progress: Progress | None = None) -> SandboxResult:  # fmt: skip
    """Compile the interpreter now (a run of nothing), e.g. in the background at start-up."""
    return run_code("pass", cancel=cancel, progress=progress)


def run_code(code: str, limits: SandboxLimits | None = None,
             cancel: threading.Event | None = None, *, progress: Progress | None = None,
             work_root: Path | None = None) -> SandboxResult:  # fmt: skip
    """Run `code` as a Python program in a fresh sandbox; never raises for what the code
    does. `work_root`: where the run's temporary folder is made (the system's temp folder
    by default)."""
    limits = limits or SandboxLimits()
    started = time.monotonic()
    run_dir = Path(tempfile.mkdtemp(prefix=RUN_FOLDER_PREFIX, dir=work_root))
    try:
        folder = run_dir / "work"
        folder.mkdir()
        try:
            job = SandboxJob(
                code=code, folder=str(folder), stdout_path=str(run_dir / "stdout"),
                stderr_path=str(run_dir / "stderr"), limits=limits,
                wasm_path=str(wasm_path()), wasm_sha256=WASM_SHA256,
                compiled_path=str(compiled_path()),
            )  # fmt: skip
        except SandboxUnavailable as exc:
            outcome = _Outcome(unavailable=str(exc))
        else:
            outcome = _run_child(job, cancel, progress)
        return _result(outcome, run_dir, limits, started)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _run_child(job: SandboxJob, cancel: threading.Event | None,
               progress: Progress | None) -> _Outcome:  # fmt: skip
    # "spawn" everywhere, as for the model host: forking a process that runs Qt threads is
    # unsafe, and frozen apps start their children through freeze_support().
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=child_main, args=(sender, job), name="deepdive-sandbox", daemon=True
    )
    process.start()
    sender.close()  # so that recv() sees the end when the child dies
    try:
        return _wait_for_child(process, receiver, job.limits, cancel, progress)
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5.0)
        receiver.close()


def _wait_for_child(process: multiprocessing.process.BaseProcess, receiver: Connection,
                    limits: SandboxLimits, cancel: threading.Event | None,
                    progress: Progress | None) -> _Outcome:  # fmt: skip
    deadline = time.monotonic() + PREPARE_TIMEOUT_S
    running = False
    while True:
        if cancel is not None and cancel.is_set():
            return _Outcome(cancelled=True)
        if time.monotonic() > deadline:
            if running:
                return _Outcome(timed_out=True)
            return _Outcome(unavailable="The Python sandbox did not start within "
                            f"{PREPARE_TIMEOUT_S:.0f} s and was given up.")  # fmt: skip
        ready = wait([receiver, process.sentinel], timeout=POLL_S)
        if not ready:
            continue
        try:
            if receiver not in ready and not receiver.poll():
                return _Outcome(died=_describe_exit(process))
            message = receiver.recv()
        except (EOFError, OSError):
            return _Outcome(died=_describe_exit(process))
        kind = message[0]
        if kind == "compiling" and progress is not None:
            progress("compiling")
        elif kind == "started":
            running = True
            deadline = time.monotonic() + limits.wall_seconds
            if progress is not None:
                progress("running")
        elif kind == "unavailable":
            return _Outcome(unavailable=message[1])
        elif kind == "done":
            report: GuestReport = message[1]
            return _Outcome(report=report)


def _describe_exit(process: multiprocessing.process.BaseProcess) -> str:
    process.join(timeout=2.0)
    code = process.exitcode
    if code is not None and code < 0:
        try:
            how = signal.Signals(-code).name
        except ValueError:
            how = f"signal {-code}"
        return f"The sandbox process was ended by {how}; the app is not affected."
    return f"The sandbox process ended unexpectedly (exit code {code}); the app is not affected."


def _read_output(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(limit)  # the child keeps to the limit; this makes sure
    except OSError:
        return ""
    return data.decode("utf-8", "replace")


def _result(outcome: _Outcome, run_dir: Path, limits: SandboxLimits,
            started: float) -> SandboxResult:  # fmt: skip
    result = partial(
        SandboxResult,
        stdout=_read_output(run_dir / "stdout", limits.output_bytes),
        stderr=_read_output(run_dir / "stderr", limits.output_bytes),
        seconds=time.monotonic() - started,
        limits=limits,
    )
    report = outcome.report
    if report is not None:
        ok, error, limit_hit = summarise(report, limits)
        first = report.first_output_at
        return result(
            ok=ok, error=error, limit_hit=limit_hit, exit_code=report.exit_code,
            cpu_seconds=report.cpu_seconds,
            first_output_seconds=None if first is None else max(0.0, first - started),
        )  # fmt: skip
    if outcome.timed_out:
        return result(ok=False, error=limits.sentence("time"), limit_hit="time")
    if outcome.cancelled:
        return result(ok=False, error=CANCELLED_SENTENCE, cancelled=True)
    message = outcome.unavailable or outcome.died or "The sandbox failed."
    return result(ok=False, error=message, sandbox_failed=True)

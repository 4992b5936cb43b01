"""Background jobs: a Qt-free core function run on a worker thread, reporting to the GUI.

The function gets a `JobControl` (the core's view: `cancelled()`, `paused()`,
`progress(done, total)`, `status(text)`) and the GUI gets queued signals. Progress is
throttled to ~20 signals a second so a fast download cannot flood the event loop.
A job that is cancelled is also disconnected: a late answer never reaches a newer view.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

PROGRESS_INTERVAL_S = 0.05


class JobControl:
    """What the worker thread sees. Thread-safe: flags are Events, progress is throttled."""

    def __init__(self, job: BackgroundJob) -> None:
        self._job = job
        self._cancel = threading.Event()
        self._pause = threading.Event()
        self._last_progress = 0.0

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def paused(self) -> bool:
        return self._pause.is_set()

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S or done >= total:
            self._last_progress = now
            self._job.progressed.emit(done, total)

    def status(self, text: str) -> None:
        self._job.status_changed.emit(text)


class BackgroundJob(QObject):
    """One call of `work(control)` on its own thread. Create and connect in the GUI thread."""

    progressed = Signal(object, object)  # done, total (Python ints: files exceed 2**31)
    status_changed = Signal(str)
    succeeded = Signal(object)  # the function's result
    failed = Signal(object)  # the exception it raised

    def __init__(self, work: Callable[[JobControl], Any], name: str = "job") -> None:
        super().__init__()
        self._work = work
        self.control = JobControl(self)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> BackgroundJob:
        self._thread.start()
        return self

    def cancel(self, *, disconnect: bool = True) -> None:
        self.control._cancel.set()
        if disconnect:
            self.blockSignals(True)  # answers already queued are dropped by `abandoned`

    def pause(self) -> None:
        self.control._pause.set()

    @property
    def abandoned(self) -> bool:
        """Cancelled and disconnected: receivers should ignore anything still in flight."""
        return self.signalsBlocked()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """True when the thread has ended (it may still block in a network read)."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._work(self.control)
        except BaseException as exc:  # the GUI decides what a failure means
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)

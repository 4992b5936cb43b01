"""Background jobs: a Qt-free core function run on a worker thread, reporting to the GUI.

The function gets a `JobControl` (the core's view: `cancelled()`, `paused()`,
`progress(done, total)`, `publish(item)`, `status(text)`) and the GUI gets queued signals.
Progress and partial results (training metrics, say) are polled by the GUI thread 20
times a second rather than signalled per report: the GUI sees the latest figure even
while the worker is blocked (a stalled download), and a fast worker - a tiny model makes
hundreds of steps a second - cannot flood the event loop. Widgets start jobs through
`desktop/engine/jobs.py`.

Lifetime: a QObject must be destroyed in its own (the GUI) thread. A running job is held
in `BackgroundJob._live`, and it leaves that set only in the GUI thread, after its worker
thread has been joined — so the worker never drops the last reference.
"""

from __future__ import annotations

import collections
import functools
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QTimer, Signal, Slot

PROGRESS_INTERVAL_MS = 50


class JobControl:
    """What the worker thread sees. Thread-safe: flags are Events; progress is one tuple
    assignment, picked up by the GUI thread's poll."""

    def __init__(self, job: BackgroundJob) -> None:
        self._job = job
        self._cancel = threading.Event()
        self._pause = threading.Event()
        self.latest: tuple[int, int] | None = None
        self.published: collections.deque[object] = collections.deque()  # thread-safe ends

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def paused(self) -> bool:
        return self._pause.is_set()

    def unpause(self) -> None:
        self._pause.clear()

    def progress(self, done: int, total: int) -> None:
        self.latest = (done, total)

    def publish(self, item: object) -> None:
        """A partial result (a training step's figures): delivered in batches."""
        self.published.append(item)

    def status(self, text: str) -> None:
        if not self._job.abandoned:
            self._job.status_changed.emit(text)


class BackgroundJob(QObject):
    """One call of `work(control)` on its own thread. Create and connect in the GUI thread."""

    _live: ClassVar[set[BackgroundJob]] = set()

    progressed = Signal(object, object)  # done, total (Python ints: files exceed 2**31)
    partial = Signal(object)  # a list of what the work published since the last poll
    status_changed = Signal(str)
    succeeded = Signal(object)  # the function's result
    failed = Signal(object)  # the exception it raised
    _ended = Signal()

    def __init__(self, work: Callable[[JobControl], Any], name: str = "job") -> None:
        super().__init__()
        self._work = work
        self.control = JobControl(self)
        self.abandoned = False  # cancelled and disconnected: nothing more is reported
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._reported: tuple[int, int] | None = None
        self._poll = QTimer(self, interval=PROGRESS_INTERVAL_MS)
        self._poll.timeout.connect(self._report_progress)
        self._ended.connect(self._on_ended)

    def start(self) -> BackgroundJob:
        BackgroundJob._live.add(self)
        self._poll.start()
        self._thread.start()
        return self

    def cancel(self, *, disconnect: bool = True) -> None:
        """Ask the work to stop; with `disconnect`, no answer of this job is delivered
        any more (receivers still compare the sender for answers already queued)."""
        self.control._cancel.set()
        if disconnect:
            self.abandoned = True

    def pause(self) -> None:
        self.control._pause.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """True when the thread has ended (it may still block in a network read)."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @classmethod
    def cancel_all(cls, timeout: float = 2.0) -> bool:
        """At exit: cancel every job and give their threads `timeout` seconds in all to
        end, so none is still emitting while Qt tears down. True when all have ended."""
        jobs = list(cls._live)
        for job in jobs:
            job.cancel()
        deadline = time.monotonic() + timeout
        for job in jobs:
            if job.wait(max(0.0, deadline - time.monotonic())):
                job._poll.stop()
                cls._live.discard(job)
        return not cls._live

    # ---- GUI thread ---------------------------------------------------------------

    @Slot()
    def _report_progress(self) -> None:
        latest = self.control.latest
        if latest is not None and latest != self._reported and not self.abandoned:
            self._reported = latest
            self.progressed.emit(*latest)
        self._drain()

    def _drain(self) -> None:
        published = self.control.published
        batch = []
        while published:
            batch.append(published.popleft())
        if batch and not self.abandoned:
            self.partial.emit(batch)

    @Slot()
    def _on_ended(self) -> None:
        self._thread.join()  # moments: the worker has returned, its thread is closing
        self._poll.stop()
        # Let go of the job from a later event, not from inside its own: if this was the
        # last reference, the QObject is then not destroyed while Qt delivers to it.
        QTimer.singleShot(0, functools.partial(BackgroundJob._live.discard, self))

    # ---- worker thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            result = self._work(self.control)
        except BaseException as exc:  # the GUI decides what a failure means
            outcome, value = self.failed, exc
        else:
            outcome, value = self.succeeded, result
        if not self.abandoned:
            self._report_progress_from_worker()
            outcome.emit(value)
        self._ended.emit()

    def _report_progress_from_worker(self) -> None:
        """The final figure and the last partial results go out before the outcome, so a
        receiver sees 100 % (and the last step) first."""
        latest = self.control.latest
        if latest is not None and latest != self._reported:
            self._reported = latest
            self.progressed.emit(*latest)
        self._drain()

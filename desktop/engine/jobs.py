"""One way to run background work from a widget, in the spirit of Orange3's
ConcurrentMixin: a widget owns a `Jobs`, and starts work by kind.

* Starting a job of a kind cancels the one of that kind still running, and its answers are
  never delivered: a widget never shows a stale search result or an old tokenization.
* Answers (the result, a failure, progress, partial results, status lines) arrive as plain
  callbacks, in the GUI thread, for the current job only - no `sender()` checks, no `_job`
  fields.
* The work is a core function that gets a `JobControl` (cancelled(), paused(),
  progress(), publish()); cancellation is that one token.
* Every `Jobs` is listed, so the window ends all background work from one call
  (`Jobs.shutdown_all`) instead of asking each widget.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Slot

from desktop.engine.background import BackgroundJob, JobControl

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]
Progress = Callable[[int, int], None]
Partial = Callable[[Sequence[Any]], None]
Status = Callable[[str], None]
Answers = tuple[Done | None, Failed | None, Progress | None, Partial | None, Status | None]
NO_ANSWERS: Answers = (None, None, None, None, None)


class Jobs(QObject):
    _all: ClassVar[weakref.WeakSet[Jobs]] = weakref.WeakSet()

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._current: dict[str, BackgroundJob] = {}
        self._answers: dict[BackgroundJob, Answers] = {}
        Jobs._all.add(self)

    def start(
        self,
        kind: str,
        work: Callable[[JobControl], Any],
        *,
        done: Done | None = None,
        failed: Failed | None = None,
        progress: Progress | None = None,
        partial: Partial | None = None,
        status: Status | None = None,
    ) -> BackgroundJob:
        """Run `work` on a worker thread; the previous job of `kind` is cancelled first."""
        self.cancel(kind)
        job = BackgroundJob(work, name=kind)
        self._answers[job] = (done, failed, progress, partial, status)
        job.succeeded.connect(self._on_succeeded)
        job.failed.connect(self._on_failed)
        job.progressed.connect(self._on_progressed)
        job.partial.connect(self._on_partial)
        job.status_changed.connect(self._on_status)
        self._current[kind] = job
        return job.start()

    def current(self, kind: str) -> BackgroundJob | None:
        return self._current.get(kind)

    def running(self, kind: str) -> bool:
        job = self._current.get(kind)
        return job is not None and job.running

    def pause(self, kind: str) -> None:
        if (job := self._current.get(kind)) is not None:
            job.pause()

    def resume(self, kind: str) -> None:
        if (job := self._current.get(kind)) is not None:
            job.control.unpause()

    def stop(self, kind: str) -> None:
        """Ask the work to stop but still deliver how it ended (a training run saves)."""
        if (job := self._current.get(kind)) is not None:
            job.cancel(disconnect=False)

    def cancel(self, kind: str | None = None) -> None:
        """Cancel `kind` (or every kind) and drop its answers."""
        for name in [kind] if kind is not None else list(self._current):
            job = self._current.pop(name, None)
            if job is not None:
                job.cancel()
                self._answers.pop(job, None)

    def shutdown(self, timeout: float = 2.0) -> None:
        jobs = list(self._current.values())
        self.cancel()
        for job in jobs:
            job.wait(timeout)

    @classmethod
    def shutdown_all(cls, timeout: float = 2.0) -> bool:
        """At exit: every widget's jobs cancelled, their threads given `timeout` seconds
        in all. True when every worker has ended."""
        for jobs in list(cls._all):
            jobs.cancel()
        return BackgroundJob.cancel_all(timeout)

    # ---- answers, in the GUI thread ----------------------------------------------------

    def _answer(self) -> tuple[BackgroundJob | None, Answers]:
        job = self.sender()
        if not isinstance(job, BackgroundJob) or job not in self._current.values():
            return None, NO_ANSWERS
        return job, self._answers.get(job, NO_ANSWERS)

    def _finish(self, job: BackgroundJob) -> None:
        for name, current in list(self._current.items()):
            if current is job:
                del self._current[name]
        self._answers.pop(job, None)

    @Slot(object)
    def _on_succeeded(self, value: object) -> None:
        job, (done, _failed, _progress, _partial, _status) = self._answer()
        if job is not None:
            self._finish(job)
            if done is not None:
                done(value)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        job, (_done, failed, _progress, _partial, _status) = self._answer()
        if job is not None:
            self._finish(job)
            if failed is not None:
                failed(exc)

    @Slot(object, object)
    def _on_progressed(self, done_count: int, total: int) -> None:
        job, (_done, _failed, progress, _partial, _status) = self._answer()
        if job is not None and progress is not None:
            progress(done_count, total)

    @Slot(object)
    def _on_partial(self, items: Sequence[Any]) -> None:
        job, (_done, _failed, _progress, partial, _status) = self._answer()
        if job is not None and partial is not None:
            partial(items)

    @Slot(str)
    def _on_status(self, text: str) -> None:
        job, (_done, _failed, _progress, _partial, status) = self._answer()
        if job is not None and status is not None:
            status(text)

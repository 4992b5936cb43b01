"""What a training-like run on a worker thread offers its tab, whatever it trains: pause,
resume and stop between any two steps, `finished` or `failed` at the end, and a shutdown
that saves the run before the app closes. `TrainingSession` (the Train tab) and
`PosttrainSession` (the Post-train tab) differ only in their work and what it publishes."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.train.run_training import TrainingOutcome
from desktop.engine.background import BackgroundJob, JobControl


class RunSession(QObject):
    phase = Signal(str)  # what the worker is doing now, in words
    finished = Signal(object)  # TrainingOutcome
    failed = Signal(object)  # the exception
    SHUTDOWN_S = 5.0  # how long closing waits for the step in progress

    def __init__(self) -> None:
        super().__init__()
        self._job: BackgroundJob | None = None

    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def paused(self) -> bool:
        return self._job is not None and self._job.control.paused()

    def _start(
        self,
        work: Callable[[JobControl], TrainingOutcome],
        name: str,
        progressed: Callable[[object, object], None],
        partial: Callable[[list[object]], None],  # what the work published since the last batch
    ) -> None:
        if self._job is not None:
            raise RuntimeError(f"a {name} run is already going")
        job = BackgroundJob(work, name=name)
        job.progressed.connect(progressed)
        job.partial.connect(partial)
        job.status_changed.connect(self.phase.emit)
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        self._job = job.start()

    def pause(self) -> None:
        if self._job is not None:
            self._job.pause()

    def resume(self) -> None:
        if self._job is not None:
            self._job.control.unpause()

    def stop(self) -> None:
        """Stop after the current step (the run is saved, then `finished` comes)."""
        if self._job is not None:
            self._job.cancel(disconnect=False)

    @Slot(object)
    def _on_done(self, outcome: TrainingOutcome) -> None:
        self._job = None
        self.finished.emit(outcome)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._job = None
        self.failed.emit(exc)

    def shutdown(self, timeout: float | None = None) -> None:
        """The app is closing: stop (saving the run) and wait for the step to end."""
        if self._job is not None:
            job = self._job
            job.cancel(disconnect=False)
            job.wait(self.SHUTDOWN_S if timeout is None else timeout)

"""A training run on a worker thread: `run_training` (corpus → tokenizer → steps, saved
at every evaluation and at the end) with pause, resume and stop between any two steps —
so a closed app or a crash loses at most a few steps.

Each step's metrics are published to the job (`JobControl.publish`), which the GUI
thread collects 20 times a second into one `metrics` batch: a fast tiny model makes
hundreds of steps a second, and a signal per step would flood the event loop.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.train.config import TrainConfig
from desktop.core.train.run_training import TrainingOutcome
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import StepMetrics, TrainingRun
from desktop.engine.background import BackgroundJob, JobControl


class TrainingSession(QObject):
    phase = Signal(str)  # what the worker is doing now, in words
    preparing = Signal(object, object)  # done, total: training the tokenizer
    metrics = Signal(object)  # list[StepMetrics] since the last batch
    finished = Signal(object)  # TrainingOutcome
    failed = Signal(object)  # the exception

    def __init__(self) -> None:
        super().__init__()
        self._job: BackgroundJob | None = None
        self.run: TrainingRun | None = None

    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def paused(self) -> bool:
        return self._job is not None and self._job.control.paused()

    def start(self, config: TrainConfig, corpus: str, folder: Path,
              tokenizer: TrainedTokenizer | None = None, run: TrainingRun | None = None,
              prompt: str = "") -> None:  # fmt: skip
        """Train on `corpus` ("stdlib" or a text file, read on the worker) with a new
        tokenizer unless one is given, and a new run unless one is given to resume,
        saving into `folder`. The app's policy: one core for training, one for the window."""
        from desktop.core.train.compute import ThreadPolicy
        from desktop.core.train.run_training import Finished, Ready, TrainingJob

        if self._job is not None:
            raise RuntimeError("a training run is already going")
        job = TrainingJob(config, corpus, folder, tokenizer, run, prompt,
                          policy=ThreadPolicy.LEAVE_A_CORE)  # fmt: skip

        def work(control: JobControl) -> TrainingOutcome:
            from desktop.core.train.run_training import run_training

            outcome = None
            for event in run_training(job, control):
                if isinstance(event, StepMetrics):
                    control.publish(event)
                elif isinstance(event, Ready):
                    self.run = event.run
                elif isinstance(event, Finished):
                    outcome = event.outcome
            assert outcome is not None  # run_training ends with Finished or raises
            return outcome

        background = BackgroundJob(work, name="training")
        background.progressed.connect(self.preparing.emit)
        background.partial.connect(self.metrics.emit)
        background.status_changed.connect(self.phase.emit)
        background.succeeded.connect(self._on_done)
        background.failed.connect(self._on_failed)
        self._job = background.start()

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
        self._end()
        self.finished.emit(outcome)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._end()
        self.failed.emit(exc)

    def _end(self) -> None:
        self._job = None

    def shutdown(self, timeout: float = 5.0) -> None:
        """The app is closing: stop (saving the run) and wait for the step to end."""
        if self._job is not None:
            job = self._job
            job.cancel(disconnect=False)
            job.wait(timeout)

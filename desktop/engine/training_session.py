"""A training run on a worker thread: `run_training` (corpus → tokenizer → steps, saved
at every evaluation and at the end) with pause, resume and stop between any two steps —
so a closed app or a crash loses at most a few steps.

Each step's metrics are published to the job (`JobControl.publish`), which the GUI
thread collects 20 times a second into one `metrics` batch: a fast tiny model makes
hundreds of steps a second, and a signal per step would flood the event loop.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal

from desktop.core.train.config import TrainConfig
from desktop.core.train.run_training import TrainingOutcome
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import StepMetrics, TrainingRun
from desktop.engine.background import JobControl
from desktop.engine.run_session import RunSession


class TrainingSession(RunSession):
    preparing = Signal(object, object)  # done, total: training the tokenizer
    metrics = Signal(object)  # list[StepMetrics] since the last batch

    def __init__(self) -> None:
        super().__init__()
        self.run: TrainingRun | None = None

    def start(self, config: TrainConfig, corpus: str, folder: Path,
              tokenizer: TrainedTokenizer | None = None, run: TrainingRun | None = None,
              prompt: str = "") -> None:  # fmt: skip
        """Train on `corpus` ("stdlib" or a text file, read on the worker) with a new
        tokenizer unless one is given, and a new run unless one is given to resume,
        saving into `folder`. The app's policy: one core for training, one for the window."""
        from desktop.core.train.compute import ThreadPolicy
        from desktop.core.train.run_training import Finished, Ready, TrainingJob

        if self.running:
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

        self._start(work, "training", self.preparing.emit, self.metrics.emit)

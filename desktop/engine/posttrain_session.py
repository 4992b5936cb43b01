"""A fine-tuning run on a worker thread, for the Post-train tab: `finetune` (tokenizer and
template in their child processes, the weights, then `run_training`'s steps) with pause,
resume and stop between any two steps, as the Train tab's `TrainingSession` does.

What the run publishes (its `Prepared` data, then each step's metrics) is collected by the
GUI thread 20 times a second into batches: `prepared` once, `metrics` with the steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.train.run_training import Finished, TrainingOutcome
from desktop.core.train.trainer import StepMetrics
from desktop.engine.background import BackgroundJob, JobControl
from desktop.engine.finetune import FinetuneRequest, Prepared


class PosttrainSession(QObject):
    phase = Signal(str)  # what the worker is doing now, in words
    progressed = Signal(object, object)  # done, total: conversations tokenized, weights read
    prepared = Signal(object)  # Prepared: the data, the model, the run's facts
    metrics = Signal(object)  # list[StepMetrics] since the last batch
    finished = Signal(object)  # TrainingOutcome
    failed = Signal(object)  # the exception

    def __init__(self) -> None:
        super().__init__()
        self._job: BackgroundJob | None = None
        self.current: Prepared | None = None  # the running (or last) run's preparation

    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def paused(self) -> bool:
        return self._job is not None and self._job.control.paused()

    def start(self, request: FinetuneRequest, prepared: Prepared | None = None) -> None:
        """Fine-tune as `request` says; `prepared` (from a preview of the same model and
        data) saves tokenizing again — the weights are read either way."""
        if self._job is not None:
            raise RuntimeError("a fine-tuning run is already going")

        def work(control: JobControl) -> TrainingOutcome:
            from desktop.engine.finetune import finetune, with_weights

            given = with_weights(prepared, request, control) if prepared is not None else None
            outcome = None
            for event in finetune(request, control, given):
                if isinstance(event, (StepMetrics, Prepared)):
                    control.publish(event)
                elif isinstance(event, Finished):
                    outcome = event.outcome
            assert outcome is not None  # run_training ends with Finished or raises
            return outcome

        job = BackgroundJob(work, name="posttrain")
        job.progressed.connect(self.progressed.emit)
        job.partial.connect(self._on_partial)
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
    def _on_partial(self, items: Sequence[object]) -> None:
        steps = []
        for item in items:
            if isinstance(item, Prepared):
                self.current = item
                self.prepared.emit(item)
            elif isinstance(item, StepMetrics):
                steps.append(item)
        if steps:
            self.metrics.emit(steps)

    @Slot(object)
    def _on_done(self, outcome: TrainingOutcome) -> None:
        self._job = None
        self.finished.emit(outcome)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._job = None
        self.failed.emit(exc)

    def shutdown(self, timeout: float = 10.0) -> None:
        """The app is closing: stop (saving the run) and wait for the step to end."""
        if self._job is not None:
            job = self._job
            job.cancel(disconnect=False)
            job.wait(timeout)

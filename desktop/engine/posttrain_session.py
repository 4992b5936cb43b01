"""A fine-tuning run on a worker thread, for the Post-train tab: `finetune` (tokenizer and
template in their child processes, the weights, then `run_training`'s steps) with pause,
resume and stop between any two steps, as the Train tab's `TrainingSession` does.

What the run publishes (its `Prepared` data, then each step's metrics) is collected by the
GUI thread 20 times a second into batches: `prepared` once, `metrics` with the steps.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot

from desktop.core.train.run_training import Finished, TrainingOutcome
from desktop.core.train.trainer import StepMetrics
from desktop.engine.background import JobControl
from desktop.engine.finetune import FinetuneRequest, Prepared
from desktop.engine.run_session import RunSession


class PosttrainSession(RunSession):
    progressed = Signal(object, object)  # done, total: conversations tokenized, weights read
    prepared = Signal(object)  # Prepared: the data, the model, the run's facts
    metrics = Signal(object)  # list[StepMetrics] since the last batch
    SHUTDOWN_S = 10.0  # a step of a 135M model takes seconds

    def __init__(self) -> None:
        super().__init__()
        self.current: Prepared | None = None  # the running (or last) run's preparation

    def start(self, request: FinetuneRequest, prepared: Prepared | None = None) -> None:
        """Fine-tune as `request` says; `prepared` (from a preview of the same model and
        data) saves tokenizing again — the weights are read either way."""
        if self.running:
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

        self._start(work, "posttrain", self.progressed.emit, self._on_partial)

    @Slot(object)
    def _on_partial(self, items: list[object]) -> None:
        steps = []
        for item in items:
            if isinstance(item, Prepared):
                self.current = item
                self.prepared.emit(item)
            elif isinstance(item, StepMetrics):
                steps.append(item)
        if steps:
            self.metrics.emit(steps)

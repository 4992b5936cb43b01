"""A training run on a worker thread: corpus → tokenizer → steps, with pause, resume and
stop between any two steps, and the run saved (checkpoint + tokenizer) at every
evaluation and when it stops — so a closed app or a crash loses at most a few steps.

Metrics go into a queue the GUI thread drains on a timer (one batch signal per tick):
a fast tiny model makes hundreds of steps a second, and a signal per step would flood
the event loop.
"""

from __future__ import annotations

import collections
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.core.atomic_files import write_text_atomically
from desktop.core.train.checkpoint import save_checkpoint
from desktop.core.train.config import TrainConfig
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import StepMetrics, TrainingRun
from desktop.engine.background import BackgroundJob, JobControl

DRAIN_MS = 50
PAUSE_POLL_S = 0.05


@dataclass(frozen=True)
class TrainingOutcome:
    run: TrainingRun
    tokenizer: TrainedTokenizer
    folder: Path
    stopped_early: bool


def corpus_note(folder: Path, text: str, *, resuming: bool) -> str:
    """Remember the corpus's hash in the run's folder; a resumed run whose corpus changed
    says so (its curve goes on, but on other text)."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    path = folder / "corpus.sha256"
    before = path.read_text().strip() if path.exists() else None
    write_text_atomically(path, digest + "\n")
    if resuming and before is not None and before != digest:
        return " ⚠ the corpus changed since this run began: it goes on with the new text."
    return ""


class TrainingSession(QObject):
    phase = Signal(str)  # what the worker is doing now, in words
    preparing = Signal(object, object)  # done, total: training the tokenizer
    metrics = Signal(object)  # list[StepMetrics] since the last drain
    finished = Signal(object)  # TrainingOutcome
    failed = Signal(object)  # the exception

    def __init__(self) -> None:
        super().__init__()
        self._queue: collections.deque[StepMetrics] = collections.deque()
        self._job: BackgroundJob | None = None
        self._timer = QTimer(self, interval=DRAIN_MS)
        self._timer.timeout.connect(self._drain)
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
        saving into `folder`."""
        if self._job is not None:
            raise RuntimeError("a training run is already going")
        queue, session_phase = self._queue, self.phase

        def work(control: JobControl) -> TrainingOutcome:
            from desktop.core.train.bpe import TrainingCancelled
            from desktop.core.train.corpus import load_corpus
            from desktop.core.train.prepare import prepare
            from desktop.core.train.sampling import RegurgitationMeter
            from desktop.core.train.trainer import train

            session_phase.emit("Reading the corpus…")
            text = load_corpus(corpus)
            folder.mkdir(parents=True, exist_ok=True)
            note = corpus_note(folder, text, resuming=run is not None)
            session_phase.emit("Training the tokenizer…" if tokenizer is None else "Tokenizing…")

            def cancelled() -> bool:  # asked between merges: Pause holds the tokenizer too
                while control.paused() and not control.cancelled():
                    time.sleep(PAUSE_POLL_S)
                return control.cancelled()

            try:
                prepared = prepare(text, config, tokenizer, progress=control.progress,
                                   cancelled=cancelled)  # fmt: skip
            except TrainingCancelled:
                raise RuntimeError("stopped before training began") from None
            prepared.tokenizer.save(folder / "tokenizer.json")
            current = run or TrainingRun.start(config, prepared.tokenizer.n_vocab)
            self.run = current
            meter = RegurgitationMeter(prepared.data.train)
            session_phase.emit(
                f"Training on {prepared.tokens:,} tokens "
                f"(vocabulary {prepared.tokenizer.n_vocab:,})…{note}"
            )
            stopped = False
            for m in train(current, prepared.data, prepared.tokenizer, prompt=prompt,
                           meter=meter):  # fmt: skip
                queue.append(m)
                if m.val_loss is not None:
                    save_checkpoint(folder / "checkpoint.npz", current.checkpoint())
                while control.paused() and not control.cancelled():
                    time.sleep(PAUSE_POLL_S)
                if control.cancelled():
                    stopped = True
                    break
            save_checkpoint(folder / "checkpoint.npz", current.checkpoint())
            return TrainingOutcome(current, prepared.tokenizer, folder, stopped)

        from desktop.core.train.blas import set_blas_threads

        set_blas_threads(1)  # one core for training, one for the window
        job = BackgroundJob(work, name="training")
        job.progressed.connect(self.preparing.emit)
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        self._job = job.start()
        self._timer.start()

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

    @Slot()
    def _drain(self) -> None:
        batch = []
        while self._queue:
            batch.append(self._queue.popleft())
        if batch:
            self.metrics.emit(batch)

    @Slot(object)
    def _on_done(self, outcome: TrainingOutcome) -> None:
        self._end()
        self.finished.emit(outcome)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._end()
        self.failed.emit(exc)

    def _end(self) -> None:
        from desktop.core.train.blas import set_blas_threads

        set_blas_threads(os.cpu_count() or 1)  # the other numpy work may use them again
        self._job = None
        self._timer.stop()
        self._drain()

    def shutdown(self, timeout: float = 5.0) -> None:
        """The app is closing: stop (saving the run) and wait for the step to end."""
        if self._job is not None:
            job = self._job
            job.cancel(disconnect=False)
            job.wait(timeout)

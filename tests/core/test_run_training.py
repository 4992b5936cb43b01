"""`run_training`, the loop the Train tab, the command line and the post-training tabs
share: it saves at every evaluation and at the end, stops and holds between steps,
resumes exactly, trains on given data with a loss mask, and sets up the machine for the
run (BLAS threads, a lower priority for the app's thread) and puts it back after."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from desktop.core.job_state import CancelToken
from desktop.core.train.batches import Batch
from desktop.core.train.blas import blas_threads
from desktop.core.train.checkpoint import load_checkpoint
from desktop.core.train.compute import Compute, ThreadPolicy
from desktop.core.train.config import preset
from desktop.core.train.run_training import (
    Finished,
    Ready,
    TrainingJob,
    TrainingStopped,
    run_training,
)
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import StepMetrics, TrainingRun

TEXT = (
    "A tokenizer cuts text into pieces. A model learns which piece comes next. "
    "The loss falls as the model learns, and samples turn from noise into words.\n\n"
) * 150
WHOLE = Compute(micro_rows=4)


def config(**changes):  # type: ignore[no-untyped-def]
    base = dict(vocab_size=300, dim=32, n_layers=1, n_heads=2, n_kv_heads=2, ffn_dim=64,
                context=32, batch_size=4, steps=30, warmup_steps=3, eval_every=10,
                sample_every=15, sample_tokens=8)  # fmt: skip
    return preset("tiny", **(base | changes))


@pytest.fixture
def corpus(tmp_path: Path) -> str:
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return str(path)


def steps_of(events: list[object]) -> list[StepMetrics]:
    return [e for e in events if isinstance(e, StepMetrics)]


def test_saves_at_every_evaluation_and_at_the_end(corpus: str, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    token = CancelToken()
    events: list[object] = []
    saved_at: dict[int, int] = {}
    first_step = None
    for event in run_training(TrainingJob(config(), corpus, folder, compute=WHOLE), token):
        events.append(event)
        if isinstance(event, Ready):
            first_step = event.run.step
        if isinstance(event, StepMetrics) and event.val_loss is not None:
            saved_at[event.step] = load_checkpoint(folder / "checkpoint.npz").step
    assert isinstance(events[0], Ready) and isinstance(events[-1], Finished)
    assert events[0].corpus_tokens is not None and first_step == 0
    assert saved_at == {10: 10, 20: 20, 30: 30}  # on disk before the evaluation is reported
    outcome = events[-1].outcome
    assert not outcome.stopped_early and outcome.run.step == 30 and outcome.folder == folder
    assert TrainedTokenizer.load(folder / "tokenizer.json").ranks == outcome.tokenizer.ranks
    assert (folder / "corpus.sha256").exists()
    assert token.statuses[:2] == ["Reading the corpus…", "Training the tokenizer…"]
    assert token.statuses[-1].startswith("Training on ")
    assert token.latest is not None and token.latest[0] == token.latest[1]  # merges: all done
    assert [m.step for m in steps_of(events)] == list(range(1, 31))
    assert any(m.sample for m in steps_of(events))


def test_stop_between_steps_saves_where_it_stopped(corpus: str, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    token = CancelToken()
    events = []
    for event in run_training(TrainingJob(config(), corpus, folder, compute=WHOLE), token):
        events.append(event)
        if isinstance(event, StepMetrics) and event.step == 7:
            token.cancel()
    outcome = events[-1].outcome
    assert outcome.stopped_early and outcome.run.step == 7
    assert steps_of(events)[-1].step == 7  # not one step more
    assert load_checkpoint(folder / "checkpoint.npz").step == 7  # saved though no evaluation


def test_pause_holds_between_steps(corpus: str) -> None:
    token = CancelToken()
    seen_while_paused: list[int] = []
    run: TrainingRun | None = None

    def look_then_resume() -> None:
        threading.Event().wait(0.3)  # the loop is waiting in its pause by now
        assert run is not None
        seen_while_paused.append(run.step)
        token.unpause()

    last = None
    for event in run_training(TrainingJob(config(steps=8), corpus, compute=WHOLE), token):
        if isinstance(event, Ready):
            run = event.run
        if isinstance(event, StepMetrics) and event.step == 3:
            token.pause()
            threading.Thread(target=look_then_resume).start()
        last = event
    assert seen_while_paused == [3]
    assert isinstance(last, Finished) and last.outcome.run.step == 8


def test_stop_while_the_tokenizer_trains(corpus: str, tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(TrainingStopped):
        list(run_training(TrainingJob(config(), corpus, tmp_path / "run"), token))
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def test_a_resumed_run_continues_the_same_curve(corpus: str, tmp_path: Path) -> None:
    whole = steps_of(list(run_training(TrainingJob(config(), corpus, compute=WHOLE),
                                       CancelToken())))  # fmt: skip
    folder = tmp_path / "run"
    token = CancelToken()
    for event in run_training(TrainingJob(config(), corpus, folder, compute=WHOLE), token):
        if isinstance(event, StepMetrics) and event.step == 12:
            token.cancel()
    resumed = TrainingRun.resume(load_checkpoint(folder / "checkpoint.npz"))
    tokenizer = TrainedTokenizer.load(folder / "tokenizer.json")
    job = TrainingJob(resumed.config, corpus, folder, tokenizer, resumed, compute=WHOLE)
    rest = steps_of(list(run_training(job, CancelToken())))
    assert [m.step for m in rest] == list(range(13, 31))
    np.testing.assert_allclose([m.loss for m in rest], [m.loss for m in whole[12:]], rtol=1e-6)


def test_micro_batches_on_two_threads_learn_the_same_curve(corpus: str) -> None:
    def losses(compute: Compute) -> list[float]:
        job = TrainingJob(config(steps=12), corpus, compute=compute)
        return [m.loss for m in steps_of(list(run_training(job, CancelToken())))]

    np.testing.assert_allclose(losses(Compute(micro_rows=1, workers=2)), losses(WHOLE),
                               rtol=1e-4)  # fmt: skip


class MaskedPairs:
    """Fine-tuning-like data: rows of a "prompt" of random tokens the model must not
    learn (weight 0) followed by an "answer" that repeats a fixed pattern (weight 1)."""

    def __init__(self, context: int, noise_seed: int) -> None:
        self.context = context
        self.noise = np.random.default_rng(noise_seed)

    def _batch(self, rng: np.random.Generator, rows: int) -> Batch:
        half = self.context // 2
        answer = np.tile(np.arange(10, 10 + half + 1), (rows, 1))
        prompt = self.noise.integers(100, 250, (rows, half))
        _ = rng.integers(0, 2)  # draws from the run's generator, as a real source would
        row = np.concatenate([prompt, answer], axis=1)
        weights = np.zeros((rows, self.context), dtype=np.float32)
        weights[:, half:] = 1.0
        return Batch(row[:, :-1], row[:, 1:], weights)

    def train_batch(self, rng: np.random.Generator, rows: int, context: int) -> Batch:
        return self._batch(rng, rows)

    def eval_batch(self, rng: np.random.Generator, rows: int, context: int, *,
                   validation: bool) -> Batch:  # fmt: skip
        return self._batch(rng, rows)


def test_given_data_with_a_loss_mask_trains_through_the_same_loop() -> None:
    """What supervised fine-tuning plugs in: its own batches and weights, no corpus."""
    from desktop.core.train.bpe import train_bpe

    tokenizer = train_bpe(TEXT, 300)
    cfg = config(steps=40, learning_rate=1e-2, eval_every=40, sample_every=1000)

    def curve(noise_seed: int) -> list[StepMetrics]:
        job = TrainingJob(cfg, data=MaskedPairs(cfg.context, noise_seed), tokenizer=tokenizer,
                          compute=Compute(micro_rows=2))  # fmt: skip
        events = list(run_training(job, CancelToken()))
        assert isinstance(events[0], Ready) and events[0].corpus_tokens is None
        return steps_of(events)

    first, other_noise = curve(1), curve(2)
    assert first[-1].loss < first[0].loss / 4  # the answer pattern is learned
    # What the masked prompt says changes the inputs the model sees, but never what it is
    # scored on: the very first loss (same weights, same answers) is the same.
    assert first[0].loss == pytest.approx(other_noise[0].loss, rel=0.05)
    assert first[-1].val_loss is not None


def test_the_machine_is_set_up_for_the_run_and_put_back(corpus: str) -> None:
    before = blas_threads()
    during: dict[str, int | None] = {}
    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def app_run() -> None:  # on its own thread, as the Train tab's session runs it
        job = TrainingJob(config(steps=3), corpus, policy=ThreadPolicy.LEAVE_A_CORE)
        for event in run_training(job, CancelToken()):
            if isinstance(event, Ready):
                during["blas"] = blas_threads()
                during["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
                during["workers"] = event.compute.workers

    thread = threading.Thread(target=app_run)
    thread.start()
    thread.join()
    assert during["blas"] == 1 and during["workers"] == 1
    if sys.platform.startswith("linux"):
        assert during["nice"] is not None and during["nice"] > main_nice  # the window first
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_nice
    assert blas_threads() == before

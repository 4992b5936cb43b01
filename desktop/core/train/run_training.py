"""The one training loop every caller shares: the Train tab (on a worker thread), the
command line, the Reinforce tab (RL and its reward model), and next the post-training tab.

    for event in run_training(TrainingJob(config, corpus="stdlib", folder=out), token):
        match event:
            case Ready(): ...          # tokenizer and model made (or resumed): run.step
            case StepMetrics(): ...    # one per optimiser step
            case Finished(outcome): ...

It owns what used to be done twice (and differently): the corpus → tokenizer → token ids
preparation (or a tokenizer and data given), resuming, the step loop, evaluations and
samples, saving the run at every evaluation and at the end (atomically), pause and stop
between steps (`JobState`), and how the machine is used (`compute.py`: micro-batches,
threads, kept memory, priority). A fine-tuning run passes its own `data` (batches with a
loss mask) and, if it needs one, another `objective`; everything else is the same loop.
Reinforcement learning passes a `data` that samples its batches from the run's own model
(advantages as weights), and an `evaluation` (pass@k) in place of the held-out loss; a
reward model passes pairs of answers and a scalar-head `objective`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.job_state import JobState
from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.train.batches import DataSource
from desktop.core.train.checkpoint import save_checkpoint
from desktop.core.train.compute import Compute, ThreadPolicy, applied, plan_compute
from desktop.core.train.config import TrainConfig
from desktop.core.train.corpus import STDLIB, load_corpus
from desktop.core.train.sampling import RegurgitationMeter
from desktop.core.train.step import NEXT_TOKEN, Accumulator, Objective
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import Evaluation, Sampler, StepMetrics, TrainingRun, train

PAUSE_POLL_S = 0.05
CHECKPOINT = "checkpoint.npz"
TOKENIZER = "tokenizer.json"


class TrainingStopped(RuntimeError):
    """Stopped before the first step: there is no model to save."""


@dataclass(frozen=True)
class TrainingJob:
    config: TrainConfig
    corpus: str = STDLIB  # "stdlib" or a text file; read and tokenized unless `data` is given
    folder: Path | None = None  # tokenizer.json, checkpoint.npz, corpus.sha256 are saved here
    tokenizer: TrainedTokenizer | None = None  # reuse this one; None: train one on the corpus
    # go on from this run's step; fine-tuning passes its start (loaded weights, step 0)
    resume: TrainingRun | None = None
    prompt: str = ""  # what the samples continue
    policy: ThreadPolicy = ThreadPolicy.ALL_CORES  # the app's tabs: LEAVE_A_CORE
    # given batches (fine-tuning): with `tokenizer` (a Train-tab one), or with `resume`
    # and a `sampler` when the model's own tokenizer made them (a downloaded GGUF)
    data: DataSource | None = None
    objective: Objective = field(default=NEXT_TOKEN)
    compute: Compute | None = None  # None: planned from the policy and this CPU's cache
    evaluation: Evaluation | None = None  # None: held-out loss and a text sample
    sampler: Sampler | None = None  # samples of the job's own kind (see `trainer.train`)


@dataclass(frozen=True, eq=False)
class Ready:
    """Everything is prepared; the first step comes next."""

    run: TrainingRun
    tokenizer: TrainedTokenizer | None  # None: the data came with a tokenizer of its own
    data: DataSource
    corpus_tokens: int | None  # tokens of the corpus (None: the data was given)
    compute: Compute
    note: str = ""  # a warning worth showing, e.g. the corpus changed since the run began


@dataclass(frozen=True, eq=False)
class TrainingOutcome:
    run: TrainingRun
    tokenizer: TrainedTokenizer | None  # as in `Ready`
    folder: Path | None
    stopped_early: bool


@dataclass(frozen=True, eq=False)
class Finished:
    outcome: TrainingOutcome


TrainingEvent = Ready | StepMetrics | Finished


def run_training(job: TrainingJob, state: JobState) -> Generator[TrainingEvent, None, None]:
    """Prepare, then train until the run's last step or until `state` is cancelled; the
    run is saved in `job.folder` (if any) at every evaluation and at the end. Raises
    `TrainingStopped` if cancelled before the first step, and what preparing raises
    (OSError, ValueError: an unreadable or too short corpus)."""
    compute = job.compute or plan_compute(job.config, job.policy)
    with applied(compute):
        ready, meter = _prepare(job, state, compute)
        yield ready
        run, folder = ready.run, job.folder
        stopped, saved_at = False, None
        with Accumulator(job.objective, compute.micro_rows, compute.workers) as accumulator:
            steps = train(run, ready.data, ready.tokenizer, prompt=job.prompt, meter=meter,
                          accumulator=accumulator, sampler=job.sampler,
                          evaluation=job.evaluation)  # fmt: skip
            for metrics in steps:
                if folder is not None and metrics.evaluated:
                    save_checkpoint(folder / CHECKPOINT, run.checkpoint())
                    saved_at = run.step
                yield metrics
                if _hold(state):
                    stopped = True
                    break
            steps.close()
        if folder is not None and saved_at != run.step:  # the last step was no evaluation
            save_checkpoint(folder / CHECKPOINT, run.checkpoint())
        yield Finished(TrainingOutcome(run, ready.tokenizer, folder, stopped))


def _prepare(
    job: TrainingJob, state: JobState, compute: Compute
) -> tuple[Ready, RegurgitationMeter | None]:
    """The tokenizer, the data and the run; with a corpus, also the meter of how much of
    the samples is copied from it."""
    from desktop.core.train.prepare import prepare

    config, note, meter = job.config, "", None
    tokenizer: TrainedTokenizer | None
    if job.data is not None:
        if job.tokenizer is None and job.resume is None:
            raise ValueError("a run on given data needs the tokenizer that made it, or a "
                             "model to start from")  # fmt: skip
        tokenizer, data, corpus_tokens = job.tokenizer, job.data, None
    else:
        from desktop.core.train.bpe import TrainingCancelled

        state.status("Reading the corpus…")
        text = load_corpus(job.corpus)
        if job.folder is not None:
            job.folder.mkdir(parents=True, exist_ok=True)
            note = corpus_note(job.folder, text, resuming=job.resume is not None)
        state.status("Training the tokenizer…" if job.tokenizer is None else "Tokenizing…")
        try:
            prepared = prepare(text, config, job.tokenizer, progress=state.progress,
                               cancelled=lambda: _hold(state))  # fmt: skip
        except TrainingCancelled:
            raise TrainingStopped("stopped before training began") from None
        tokenizer, data, corpus_tokens = prepared.tokenizer, prepared.data, prepared.tokens
        meter = RegurgitationMeter(prepared.data.train)
    if job.folder is not None:
        job.folder.mkdir(parents=True, exist_ok=True)
        if tokenizer is not None:
            tokenizer.save(job.folder / TOKENIZER)
    if job.resume is not None:
        run = job.resume
    else:
        assert tokenizer is not None  # checked above: only a given start may go without
        run = TrainingRun.start(config, tokenizer.n_vocab)
    if _hold(state):
        raise TrainingStopped("stopped before training began")
    size = f"{corpus_tokens:,} tokens" if corpus_tokens is not None else "the given data"
    state.status(f"Training on {size} (vocabulary {run.shape.vocab_size:,})…{note}")
    return Ready(run, tokenizer, data, corpus_tokens, compute, note.strip()), meter


def _hold(state: JobState) -> bool:
    """Wait while paused; True if the job is to stop."""
    while state.paused() and not state.cancelled():
        time.sleep(PAUSE_POLL_S)
    return state.cancelled()


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

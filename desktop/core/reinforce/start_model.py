"""The starting point for RL, made here: a tiny model pretrained on what the task needs
known, then fine-tuned (SFT) on a teacher's answers — and stopped part-way, when its
first-try accuracy on held-out problems reaches a target (say 40 %), so RL has room.

Both stages are `run_training` runs on data made fresh each batch (`task_data.py`):

1. pretraining on reference text (copying words letter by letter, sums, ordered
   numbers: the skills the task's working uses), every token learned;
2. SFT on conversations, the loss on the answer's tokens only, pass@1 measured every
   `eval_every` steps — the run stops at the first evaluation at or above `target`.

The folder keeps the SFT run (checkpoint with its optimiser: "more SFT" resumes it for the
AlphaGo comparison), the tokenizer, and `start.json` (task, difficulty, the figures at the
stop). The writer for RLHF is made the same way, on jokes and poems, with no verifier.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from desktop.core.job_state import JobState
from desktop.core.reinforce.chat_format import task_tokenizer
from desktop.core.reinforce.evaluation import PassAtK
from desktop.core.reinforce.task_data import ReferenceText, TaskExamples
from desktop.core.reinforce.tasks import get_task
from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.train.checkpoint import Checkpoint, load_checkpoint
from desktop.core.train.compute import ThreadPolicy
from desktop.core.train.config import TrainConfig, ffn_width, preset
from desktop.core.train.model import Params
from desktop.core.train.run_training import (
    CHECKPOINT,
    TOKENIZER,
    Finished,
    TrainingJob,
    run_training,
)
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import StepMetrics, TrainingRun

START_FILE = "start.json"
PRETRAIN_FOLDER = "pretrain"
WRITER = "writer"


@dataclass(frozen=True)
class StartRecipe:
    task: str = "count-letters"  # or "writer": RLHF's joke-and-poem model
    difficulty: int = 2
    dim: int = 64
    n_layers: int = 2
    n_heads: int = 4
    context: int = 128
    pretrain_steps: int = 1500
    sft_steps: int = 3000  # at most: SFT stops earlier, at `target`
    target: float = 0.4  # held-out pass@1 at which SFT stops (0: run all `sft_steps`)
    worked_share: float = 0.5  # share of the teacher's answers that show the working
    learning_rate: float = 3e-3  # pretraining's peak (cosine down to a tenth)
    sft_learning_rate: float = 1e-3  # fine-tuning's, constant after the warmup
    pretrain_batch: int = 16
    sft_batch: int = 32
    eval_every: int = 50
    eval_problems: int = 32
    eval_samples: int = 8
    max_new: int = 48
    seed: int = 1337

    def config(self, n_vocab: int, *, steps: int, batch: int, decay: bool) -> TrainConfig:
        """Pretraining decays its learning rate (cosine); fine-tuning keeps it constant
        after the warmup, so "more SFT" continues it exactly as it was going."""
        lr = self.learning_rate if decay else self.sft_learning_rate
        return preset(
            "tiny", preset="start", vocab_size=n_vocab, dim=self.dim, n_layers=self.n_layers,
            n_heads=self.n_heads, n_kv_heads=self.n_heads, ffn_dim=ffn_width(self.dim),
            context=self.context, batch_size=batch, steps=max(1, steps),
            learning_rate=lr, min_learning_rate=lr / 10 if decay else lr,
            warmup_steps=max(1, min(20, steps // 10)), eval_every=self.eval_every,
            seed=self.seed,
        )  # fmt: skip

    def evaluation(self, tokenizer: TrainedTokenizer) -> PassAtK | None:
        if self.task == WRITER:
            return None
        return PassAtK(get_task(self.task), self.difficulty, tokenizer,
                       problems=self.eval_problems, samples=self.eval_samples,
                       max_new=self.max_new)  # fmt: skip


@dataclass(frozen=True, eq=False)
class StartModel:
    folder: Path
    recipe: StartRecipe
    tokenizer: TrainedTokenizer
    checkpoint: Checkpoint  # the SFT run where it stopped
    figures: dict[str, Any] = field(default_factory=dict)  # at the stop: pass_at_1, …

    @property
    def params(self) -> Params:
        return self.checkpoint.params

    @property
    def config(self) -> TrainConfig:
        return self.checkpoint.config

    def run(self) -> TrainingRun:
        """The SFT run as it stopped, to continue it ("more SFT")."""
        return TrainingRun.resume(load_checkpoint(self.folder / CHECKPOINT))


@dataclass(frozen=True)
class Stage:
    """A new stage begins: "pretraining" or "fine-tuning"."""

    name: str
    steps: int


StartEvent = Stage | StepMetrics | StartModel


class StopWhen:
    """A `JobState` that also stops when its owner says so (a target reached), besides
    when the job's own state is cancelled."""

    def __init__(self, outer: JobState) -> None:
        self.outer, self.stop = outer, False

    def cancelled(self) -> bool:
        return self.stop or self.outer.cancelled()

    def paused(self) -> bool:
        return self.outer.paused()

    def progress(self, done: int, total: int) -> None:
        self.outer.progress(done, total)

    def status(self, text: str) -> None:
        self.outer.status(text)


def make_start_model(
    recipe: StartRecipe,
    folder: Path,
    state: JobState,
    policy: ThreadPolicy = ThreadPolicy.ALL_CORES,
) -> Generator[StartEvent, None, None]:
    """Pretrain, then fine-tune until held-out pass@1 reaches `recipe.target`; the model
    is saved in `folder`. Stopped by `state`, it ends after the stage under way with
    what it has (still a model, just a weaker one)."""
    tokenizer = task_tokenizer()
    task = _task(recipe.task)
    folder.mkdir(parents=True, exist_ok=True)
    params: Params | None = None
    if recipe.pretrain_steps > 0:
        yield Stage("pretraining", recipe.pretrain_steps)
        config = recipe.config(tokenizer.n_vocab, steps=recipe.pretrain_steps,
                               batch=recipe.pretrain_batch, decay=True)  # fmt: skip
        job = TrainingJob(config, folder=folder / PRETRAIN_FOLDER, tokenizer=tokenizer,
                          data=ReferenceText(task, tokenizer, recipe.difficulty),
                          policy=policy)  # fmt: skip
        for event in run_training(job, state):
            if isinstance(event, StepMetrics):
                yield event
            elif isinstance(event, Finished):
                params = event.outcome.run.params
    yield Stage("fine-tuning", recipe.sft_steps)
    config = recipe.config(
        tokenizer.n_vocab, steps=recipe.sft_steps, batch=recipe.sft_batch, decay=False
    )
    if params is None:  # no pretraining: fine-tuning starts from random weights
        run = TrainingRun.start(config, tokenizer.n_vocab)
    else:
        run = TrainingRun.start_from(config, {n: p.copy() for n, p in params.items()})
    stop = StopWhen(state)
    figures: dict[str, Any] = {}
    job = TrainingJob(config, folder=folder, tokenizer=tokenizer, resume=run,
                      data=TaskExamples(task, tokenizer, recipe.difficulty, recipe.worked_share),
                      evaluation=recipe.evaluation(tokenizer), policy=policy)  # fmt: skip
    for event in run_training(job, stop):
        if isinstance(event, StepMetrics):
            if event.evaluated:
                figures = event.figures or {"val_loss": event.val_loss}
                reached = event.figures.get("pass_at_1", 0.0) >= recipe.target > 0
                stop.stop = stop.stop or reached
            yield event
    info = {"recipe": asdict(recipe), "figures": figures, "step": run.step,
            "elapsed_s": run.elapsed_s}  # fmt: skip
    write_text_atomically(folder / START_FILE, json.dumps(info, indent=1) + "\n")
    yield load_start_model(folder)


def _task(name: str) -> Any:
    if name == WRITER:
        from desktop.core.reinforce.writer import WriterTask

        return WriterTask()
    return get_task(name)


def load_start_model(folder: Path) -> StartModel:
    """A start model saved by `make_start_model`; OSError/ValueError if it is not one."""
    try:
        info = json.loads((folder / START_FILE).read_text(encoding="utf-8"))
        recipe = replace(StartRecipe(), **{k: v for k, v in info["recipe"].items()
                                           if k in StartRecipe.__dataclass_fields__})  # fmt: skip
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder} holds no start model ({exc})") from exc
    return StartModel(
        folder,
        recipe,
        TrainedTokenizer.load(folder / TOKENIZER),
        load_checkpoint(folder / CHECKPOINT),
        dict(info.get("figures", {})),
    )

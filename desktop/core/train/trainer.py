"""The training loop as a generator: each `next()` is one optimiser step and yields its
figures, so a caller (the Train tab's worker, the command line) reports progress and can
pause or stop between any two steps — and the loop itself stays a plain, readable loop.

    run = TrainingRun.start(config, tokenizer.n_vocab)
    for metrics in train(run, data):
        ...   # plot metrics.loss; break to stop; save run.checkpoint() to resume later
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from desktop.core.models.gguf_writer import CHATML_TEMPLATE, FileType, LlamaShape, write_llama_gguf
from desktop.core.train.batches import DataSource
from desktop.core.train.checkpoint import Checkpoint
from desktop.core.train.config import TrainConfig
from desktop.core.train.model import Params, forward, init_params
from desktop.core.train.optim import AdamW, clip_grad_norm, learning_rate_at
from desktop.core.train.sampling import RegurgitationMeter, readable_text, sample
from desktop.core.train.step import NEXT_TOKEN, Accumulator
from desktop.core.train.trained_tokenizer import TrainedTokenizer


@dataclass(frozen=True)
class StepMetrics:
    step: int  # steps done, counting this one
    total_steps: int
    tokens_seen: int
    loss: float
    learning_rate: float
    grad_norm: float
    elapsed_s: float
    tokens_per_s: float
    val_loss: float | None = None  # at evaluation steps
    train_eval_loss: float | None = None  # the same measure on training data: the gap
    sample: str | None = None  # at sample steps
    regurgitation: float | None = None  # share of the sample's 12-token runs in the data
    evaluated: bool = False  # an evaluation step (the run is saved before it is reported)
    # What else the step measured, by name: the batch's own (a rollout's mean reward) and
    # an `Evaluation`'s (held-out pass@1, graded samples); JSON-serialisable values.
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def eta_s(self) -> float:
        per_step = self.elapsed_s / max(1, self.step)
        return per_step * (self.total_steps - self.step)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"eta_s": self.eta_s}


@dataclass
class TrainingRun:
    """Everything that changes while training, so it can be saved and resumed exactly."""

    config: TrainConfig
    shape: LlamaShape
    params: Params
    optimizer: AdamW
    rng: np.random.Generator
    step: int = 0
    tokens_seen: int = 0
    elapsed_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(cls, config: TrainConfig, n_vocab: int) -> TrainingRun:
        """A fresh model for a tokenizer of `n_vocab` tokens (what BPE really produced)."""
        shape = replace(config.shape(), vocab_size=n_vocab)
        params = init_params(shape, config.seed)
        optimizer = AdamW(params, weight_decay=config.weight_decay)
        return cls(config, shape, params, optimizer, np.random.default_rng(config.seed))

    @classmethod
    def start_from(cls, config: TrainConfig, params: Params) -> TrainingRun:
        """A run that begins from given parameters instead of random ones: fine-tuning
        starts from a loaded model's weights (full fine-tuning) or from fresh adapters
        (LoRA, whose objective holds the frozen model). `config.shape()` is the model's."""
        optimizer = AdamW(params, weight_decay=config.weight_decay)
        return cls(config, config.shape(), params, optimizer, np.random.default_rng(config.seed))

    @classmethod
    def resume(cls, checkpoint: Checkpoint) -> TrainingRun:
        config = checkpoint.config
        embd = checkpoint.params.get("token_embd.weight")  # absent: the run trains adapters
        vocab = embd.shape[0] if embd is not None else config.vocab_size
        shape = replace(config.shape(), vocab_size=int(vocab))
        optimizer = AdamW(checkpoint.params, weight_decay=config.weight_decay)
        optimizer.m, optimizer.v = checkpoint.adam_m, checkpoint.adam_v
        optimizer.steps = checkpoint.step
        rng = np.random.default_rng()
        rng.bit_generator.state = checkpoint.rng_state
        return cls(
            config,
            shape,
            checkpoint.params,
            optimizer,
            rng,
            checkpoint.step,
            checkpoint.tokens_seen,
            checkpoint.elapsed_s,
            history=list(checkpoint.history or []),
        )

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            self.config,
            self.step,
            self.params,
            self.optimizer.m,
            self.optimizer.v,
            dict(self.rng.bit_generator.state),
            self.tokens_seen,
            self.elapsed_s,
            self.history,
        )

    @property
    def done(self) -> bool:
        return self.step >= self.config.steps


Evaluation = Callable[[TrainingRun], dict[str, Any]]
Sampler = Callable[[TrainingRun], str]  # what the model writes now, shown as a sample


def train(
    run: TrainingRun,
    data: DataSource,
    tokenizer: TrainedTokenizer | None = None,
    *,
    prompt: str = "",
    meter: RegurgitationMeter | None = None,
    accumulator: Accumulator | None = None,
    evaluation: Evaluation | None = None,
    sampler: Sampler | None = None,
) -> Generator[StepMetrics, None, None]:
    """Train until `run.config.steps`; one yield per step. Samples need `tokenizer`, or a
    `sampler` of the run's own kind (fine-tuning: the model's replies to held-out
    questions), which then replaces the continuation of `prompt`.

    `accumulator` says what loss is minimised and how a batch is cut into micro-batches
    and spread over threads (`step.py`); by default, next-token prediction on the whole
    batch at once. `evaluation`, if given, is what an evaluation step measures instead of
    the loss on held-out batches and a text sample: RL's pass@k on held-out prompts with
    its graded answers, a reward model's accuracy on held-out pairs."""
    c = run.config
    own = accumulator is None
    step_of = accumulator or Accumulator(NEXT_TOKEN, c.batch_size)
    try:
        while not run.done:
            step_started = time.perf_counter()  # paused or saving time is not training time
            batch = data.train_batch(run.rng, c.batch_size, c.context)
            loss, grads = step_of.loss_and_grads(run.params, run.shape, batch)
            grad_norm = clip_grad_norm(grads, c.grad_clip)
            lr = learning_rate_at(
                run.step,
                max_lr=c.learning_rate,
                min_lr=c.min_learning_rate,
                warmup_steps=c.warmup_steps,
                total_steps=c.steps,
            )
            run.optimizer.step(run.params, grads, lr)
            del grads  # before the evaluation below allocates its own activations
            run.step += 1
            run.tokens_seen += batch.tokens
            run.elapsed_s += time.perf_counter() - step_started
            metrics = StepMetrics(
                run.step,
                c.steps,
                run.tokens_seen,
                loss,
                lr,
                grad_norm,
                run.elapsed_s,
                run.tokens_seen / max(run.elapsed_s, 1e-9),
                figures=dict(batch.figures),
            )
            evaluating = run.step % c.eval_every == 0 or run.done
            if evaluating and evaluation is not None:
                metrics = replace(metrics, evaluated=True,
                                  figures=metrics.figures | evaluation(run))  # fmt: skip
            elif evaluating:
                metrics = replace(
                    metrics,
                    evaluated=True,
                    val_loss=evaluate(run, data, validation=True, accumulator=step_of),
                    train_eval_loss=evaluate(run, data, validation=False, accumulator=step_of),
                )
            sample_step = run.step % c.sample_every == 0 or run.done
            if sampler is not None and sample_step:
                metrics = replace(metrics, sample=sampler(run))
            elif tokenizer is not None and evaluation is None and sample_step:
                ids = sample_ids(run, tokenizer, prompt)
                copied = meter.share_copied(ids) if meter is not None else None
                text = readable_text(tokenizer.decode_bytes(ids))
                metrics = replace(metrics, sample=text, regurgitation=copied)
            run.history.append(_point(metrics))
            yield metrics
    finally:
        if own:
            step_of.close()


def evaluate(
    run: TrainingRun,
    data: DataSource,
    *,
    validation: bool,
    accumulator: Accumulator | None = None,
) -> float:
    """Mean loss over a few fixed batches (a generator of its own: training's random
    sequence stays the same whether or not we evaluate)."""
    c = run.config
    rng = np.random.default_rng(c.seed + 1)
    loss_of = accumulator or Accumulator(NEXT_TOKEN, c.batch_size)
    batches = [
        data.eval_batch(rng, c.batch_size, c.context, validation=validation)
        for _ in range(c.eval_batches)
    ]
    losses = [loss_of.loss(run.params, run.shape, batch) for batch in batches]
    return float(np.mean(losses))


def sample_ids(run: TrainingRun, tokenizer: TrainedTokenizer, prompt: str) -> list[int]:
    c = run.config
    rng = np.random.default_rng(c.seed + run.step)
    return sample(
        lambda window: forward(run.params, run.shape, window)[0],
        tokenizer.encode(prompt) if prompt else [],
        c.sample_tokens,
        c.context,
        temperature=c.temperature,
        rng=rng,
    )


def export_gguf(
    run: TrainingRun,
    tokenizer: TrainedTokenizer,
    path: Path,
    *,
    file_type: FileType = "F32",
    name: str = "deepdive-tiny-base",
) -> Path:
    """The trained model as a GGUF llama.cpp runs: weights, the BPE tokenizer, ChatML.

    Pretrained only, so the name says "base": the Chat and Quiz tabs then ask it as the
    base model it is, although it carries ChatML for post-training
    (desktop/core/models/model_kind.py)."""
    write_llama_gguf(
        path,
        run.shape,
        run.params,
        tokenizer.to_bpe_vocab(),
        name=name,
        chat_template=CHATML_TEMPLATE,
        file_type=file_type,
        pre=tokenizer.gguf_pre,
    )
    return path


def _point(m: StepMetrics) -> dict[str, Any]:
    """What the curves need (kept in the run's history and in checkpoints)."""
    point: dict[str, Any] = {
        "step": m.step,
        "tokens": m.tokens_seen,
        "loss": m.loss,
        "lr": m.learning_rate,
    }
    if m.val_loss is not None:
        point |= {"val_loss": m.val_loss, "train_eval_loss": m.train_eval_loss}
    if m.sample is not None:  # so a reopened run shows what its model wrote
        point |= {"sample": m.sample, "regurgitation": m.regurgitation}
    return point | m.figures

"""RL's batches: the model answers, the judge scores, the scores become token weights.

`RolloutSource` is a `DataSource` for `run_training`, holding the run it samples from.
Each step it draws `prompts_per_step` prompts, samples K answers to each from the run's
current weights (the KV-cache sampler, temperature 1: the model's own distribution, so
the update follows the gradient of its expected reward), scores them, and returns a batch
whose weights are each answer's advantage on each of its tokens and 0 elsewhere. The
training loop's weighted cross-entropy is then exactly the policy-gradient loss

    −Σ_answers A · Σ_tokens log π(token) / (answer tokens in the batch)

(dividing by the tokens, not per answer, does not favour short or long answers).

With `kl` > 0 each answer's reward is lowered by `kl` × its log-probability ratio to the
starting model, Σ log π(token) − log π_start(token): the score-function estimate of a
KL penalty, which keeps the policy near where it began (RLHF needs it; a verifier less).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.reinforce.advantages import group_advantages, zero_signal_share
from desktop.core.reinforce.chat_format import answer_text, end_id, pad_id, prompt_ids
from desktop.core.reinforce.judges import Judge, Scored
from desktop.core.reinforce.task_data import padded_batch
from desktop.core.train.batches import Batch
from desktop.core.train.kv_decode import Samples, sample_batch
from desktop.core.train.model import Params, forward
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import TrainingRun


@dataclass(frozen=True)
class RolloutSettings:
    prompts_per_step: int = 4
    samples: int = 8  # K answers to each prompt
    max_new: int = 64  # longest answer, in tokens
    kl: float = 0.0  # weight of the penalty for moving away from the starting model

    @property
    def rows(self) -> int:
        return self.prompts_per_step * self.samples


@dataclass(frozen=True, eq=False)
class Rollout:
    """K answers to each of some prompts, and their scores."""

    prompts: list[Any]  # one per answer (each prompt K times in a row)
    prompt_ids: list[list[int]]
    samples: Samples
    answers: list[str]
    scores: list[Scored]

    @property
    def rewards(self) -> np.ndarray:
        return np.array([s.reward for s in self.scores])


def roll_out(
    params: Params,
    shape: LlamaShape,
    tokenizer: TrainedTokenizer,
    judge: Judge,
    prompts: Sequence[Any],
    samples: int,
    max_new: int,
    rng: np.random.Generator,
) -> Rollout:
    """`samples` answers to each prompt from `params`, scored by `judge`."""
    repeated = [p for p in prompts for _ in range(samples)]
    ids = [prompt_ids(tokenizer, p.prompt) for p in repeated]
    drawn = sample_batch(params, shape, ids, max_new=max_new, rng=rng,
                         stop_ids={end_id(tokenizer)})  # fmt: skip
    answers = [answer_text(tokenizer, t) for t in drawn.tokens]
    return Rollout(repeated, ids, drawn, answers, judge.score(repeated, answers))


class RolloutSource:
    """A `DataSource` that samples its batches from `run`'s current weights."""

    def __init__(
        self,
        run: TrainingRun,
        tokenizer: TrainedTokenizer,
        judge: Judge,
        settings: RolloutSettings,
        reference: Params | None = None,
    ) -> None:
        self.run, self.tokenizer, self.judge, self.settings = run, tokenizer, judge, settings
        self.reference = reference  # the starting weights, for the KL penalty
        self.last: Rollout | None = None

    def train_batch(self, rng: np.random.Generator, rows: int, context: int) -> Batch:
        s = self.settings
        prompts = [self.judge.draw(rng) for _ in range(s.prompts_per_step)]
        rollout = roll_out(self.run.params, self.run.shape, self.tokenizer, self.judge, prompts,
                           s.samples, s.max_new, rng)  # fmt: skip
        self.last = rollout
        return policy_batch(rollout, s, self.tokenizer, context, self.run, self.reference)

    def eval_batch(
        self, rng: np.random.Generator, rows: int, context: int, *, validation: bool
    ) -> Batch:
        raise NotImplementedError("RL is evaluated by pass@k (an Evaluation), not a loss")


def policy_batch(
    rollout: Rollout,
    settings: RolloutSettings,
    tokenizer: TrainedTokenizer,
    context: int,
    run: TrainingRun,
    reference: Params | None,
) -> Batch:
    """The rollout as a batch: each answer's tokens weighted by its advantage."""
    rewards = rollout.rewards
    shaped, kl = rewards, None
    rows = [(p + t, [0.0] * (len(p) + len(t)))
            for p, t in zip(rollout.prompt_ids, rollout.samples.tokens, strict=True)]  # fmt: skip
    if settings.kl > 0 and reference is not None:
        kl = log_ratios(rollout, run.shape, tokenizer, reference)
        shaped = rewards - settings.kl * kl
    advantages = group_advantages(shaped.reshape(-1, settings.samples)).reshape(-1)
    for (ids, weights), p, a in zip(rows, rollout.prompt_ids, advantages, strict=True):
        weights[len(p) :] = [float(a)] * (len(ids) - len(p))
    batch = padded_batch(rows, pad_id(tokenizer), context)
    answer_tokens = float(sum(len(t) for t in rollout.samples.tokens))
    figures = rollout_figures(rollout, settings.samples, kl)
    return Batch(batch.inputs, batch.targets, batch.weights, max(answer_tokens, 1.0),
                 figures=figures)  # fmt: skip


def sequence_logprobs(
    params: Params, shape: LlamaShape, tokenizer: TrainedTokenizer, rollout: Rollout
) -> np.ndarray:
    """Per answer: Σ over its tokens of log p(token) under `params`."""
    rows = [(p + t, [0.0] * (len(p) + len(t)))
            for p, t in zip(rollout.prompt_ids, rollout.samples.tokens, strict=True)]  # fmt: skip
    batch = padded_batch(rows, pad_id(tokenizer), shape.context_length)
    logits = forward(params, shape, batch.inputs)[0].astype(np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    out = np.zeros(len(rows))
    for r, (p, t) in enumerate(zip(rollout.prompt_ids, rollout.samples.tokens, strict=True)):
        where = np.arange(len(p) - 1, len(p) - 1 + len(t))
        where = where[where < batch.inputs.shape[1]]
        out[r] = float(log_p[r, where, np.asarray(t, dtype=np.int64)[: len(where)]].sum())
    return out


def log_ratios(
    rollout: Rollout, shape: LlamaShape, tokenizer: TrainedTokenizer, reference: Params
) -> np.ndarray:
    """Per answer: Σ over its tokens of log π(token) − log π_start(token). The policy's
    log-probabilities are the sampler's own (drawn at temperature 1)."""
    sampled = np.array([lp.sum() for lp in rollout.samples.logprobs])
    ratios: np.ndarray = sampled - sequence_logprobs(reference, shape, tokenizer, rollout)
    return ratios


def rollout_figures(rollout: Rollout, samples: int, kl: np.ndarray | None) -> dict[str, Any]:
    rewards = rollout.rewards.reshape(-1, samples)
    lengths = [len(t) for t in rollout.samples.tokens]
    figures: dict[str, Any] = {
        "train_reward": float(rewards.mean()),
        "train_zero_signal": zero_signal_share(rewards),
        "train_length": float(np.mean(lengths)),
    }
    if kl is not None:
        figures["kl"] = float(kl.mean())
    return figures

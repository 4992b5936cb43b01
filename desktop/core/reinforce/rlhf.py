"""RLHF: preferences → a reward model → RL against it, on the writer (jokes, poems, story
openings), through the same training loop as everything else.

* `two_answers` gives the person (or a scripted preference) two answers to one request.
* `reward_model_job` trains the scalar-head model on pairs (Bradley–Terry); its
  evaluation is the accuracy on held-out pairs.
* `RewardModelJudge` scores RL's answers with it; `RLHFEvaluation` watches the run: the
  reward model's mean score on held-out requests, and — when the preference is a known
  rule — what the rule thinks of the same answers and how often the reward model still
  agrees with it. The reward rising while the rule's score falls is reward hacking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from desktop.core.reinforce.chat_format import pad_id
from desktop.core.reinforce.evaluation import SHOWN
from desktop.core.reinforce.judges import Scored
from desktop.core.reinforce.reward_model import (
    HEAD,
    PREFERENCE_LOSS,
    PairLike,
    accuracy,
    conversation,
    pair_batch,
    reward_params,
    score_conversations,
)
from desktop.core.reinforce.rollouts import Rollout, roll_out
from desktop.core.reinforce.scripted_preference import ScriptedPreference, agreement
from desktop.core.reinforce.start_model import StartModel
from desktop.core.reinforce.writer import Request, request
from desktop.core.train.batches import Batch
from desktop.core.train.compute import ThreadPolicy
from desktop.core.train.kv_decode import sample_batch
from desktop.core.train.model import Params
from desktop.core.train.run_training import TrainingJob
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import TrainingRun

HELD_OUT_SHARE = 0.2


def two_answers(start: StartModel, params: Params, rng: np.random.Generator,
                count: int = 1) -> list[tuple[str, str, str]]:  # fmt: skip
    """`count` requests, each with two answers from `params`: (request, a, b)."""
    from desktop.core.reinforce.chat_format import answer_text, end_id, prompt_ids

    asked = [request(rng) for _ in range(count)]
    ids = [prompt_ids(start.tokenizer, r.prompt) for r in asked for _ in range(2)]
    shape = replace(start.config.shape(), vocab_size=start.tokenizer.n_vocab)
    drawn = sample_batch(params, shape, ids, max_new=start.recipe.max_new, rng=rng,
                         stop_ids={end_id(start.tokenizer)})  # fmt: skip
    texts = [answer_text(start.tokenizer, t) for t in drawn.tokens]
    return [(r.prompt, texts[2 * i], texts[2 * i + 1]) for i, r in enumerate(asked)]


def split_pairs(pairs: Sequence[PairLike], seed: int = 0) -> tuple[list[Any], list[Any]]:
    """Training and held-out pairs (ties left out): a fifth held out, at least one."""
    decided = [p for p in pairs if not p.tie]
    order = np.random.default_rng(seed).permutation(len(decided))
    held = max(1, int(len(decided) * HELD_OUT_SHARE)) if len(decided) > 1 else 0
    return [decided[i] for i in order[held:]], [decided[i] for i in order[:held]]


@dataclass(frozen=True, eq=False)
class PairData:
    """A `DataSource` of preference pairs: each batch a random draw of `rows // 2`."""

    pairs: Sequence[PairLike]
    tokenizer: TrainedTokenizer

    def train_batch(self, rng: np.random.Generator, rows: int, context: int) -> Batch:
        picks = rng.integers(len(self.pairs), size=max(1, rows // 2))
        return pair_batch([self.pairs[i] for i in picks], self.tokenizer, context)

    def eval_batch(
        self, rng: np.random.Generator, rows: int, context: int, *, validation: bool
    ) -> Batch:
        return self.train_batch(rng, rows, context)


@dataclass(frozen=True, eq=False)
class RewardAccuracy:
    """The reward model's `Evaluation`: accuracy on held-out and on training pairs."""

    held_out: Sequence[PairLike]
    train: Sequence[PairLike]
    tokenizer: TrainedTokenizer

    def __call__(self, run: TrainingRun) -> dict[str, Any]:
        figures = {"train_accuracy": accuracy(run.params, run.shape, self.train[:200],
                                              self.tokenizer)}  # fmt: skip
        if self.held_out:
            figures["reward_accuracy"] = accuracy(run.params, run.shape, self.held_out,
                                                  self.tokenizer)  # fmt: skip
        return figures


def reward_model_job(
    start: StartModel,
    pairs: Sequence[PairLike],
    *,
    steps: int = 150,
    pairs_per_step: int = 8,
    learning_rate: float = 1e-3,
    folder: Path | None = None,
    policy: ThreadPolicy = ThreadPolicy.ALL_CORES,
) -> TrainingJob:
    """Train a reward model, from the writer's weights, on `pairs` (a fifth held out)."""
    train, held_out = split_pairs(pairs)
    if not train:
        raise ValueError("a reward model needs at least two pairs that are not ties")
    config = replace(start.config, preset="reward", steps=steps, batch_size=2 * pairs_per_step,
                     learning_rate=learning_rate, min_learning_rate=learning_rate / 10,
                     warmup_steps=max(1, min(10, steps // 10)), weight_decay=0.0,
                     eval_every=max(1, steps // 10))  # fmt: skip
    params = reward_params(start.params, start.config.dim)
    run = TrainingRun.start_from(config, params)
    return TrainingJob(config, folder=folder, tokenizer=start.tokenizer, resume=run,
                       data=PairData(train, start.tokenizer), objective=PREFERENCE_LOSS,
                       evaluation=RewardAccuracy(held_out, train, start.tokenizer),
                       policy=policy)  # fmt: skip


def reward_scores(reward: Params, start: StartModel, prompts: Sequence[str],
                  answers: Sequence[str]) -> np.ndarray:  # fmt: skip
    shape = replace(start.config.shape(), vocab_size=start.tokenizer.n_vocab)
    rows = [conversation(start.tokenizer, p, a) for p, a in zip(prompts, answers, strict=True)]
    return score_conversations(reward, shape, rows, pad_id(start.tokenizer))


@dataclass(frozen=True, eq=False)
class RewardModelJudge:
    """RLHF's `Judge`: writer requests, scored by the reward model."""

    reward: Params
    start: StartModel

    def draw(self, rng: np.random.Generator) -> Request:
        return request(rng)

    def score(self, prompts: Sequence[Any], answers: Sequence[str]) -> list[Scored]:
        rewards = reward_scores(self.reward, self.start, [p.prompt for p in prompts], answers)
        return [Scored(float(r), f"reward {r:+.2f}") for r in rewards]


class RLHFEvaluation:
    """An `Evaluation` for RL against a reward model: K answers to fixed held-out
    requests, their reward, length and distance from the start model; and with a
    scripted `preference`, the rule's score and its agreement with the reward model."""

    def __init__(
        self,
        judge: RewardModelJudge,
        *,
        preference: ScriptedPreference | None = None,
        requests: int = 12,
        samples: int = 4,
        seed: int = 99,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.judge, self.preference, self.samples, self.seed = judge, preference, samples, seed
        self.requests = [request(rng) for _ in range(requests)]

    def rollout(self, run: TrainingRun) -> Rollout:
        rng = np.random.default_rng(self.seed)
        start = self.judge.start
        return roll_out(run.params, run.shape, start.tokenizer, self.judge, self.requests,
                        self.samples, start.recipe.max_new, rng)  # fmt: skip

    def __call__(self, run: TrainingRun) -> dict[str, Any]:
        rollout = self.rollout(run)
        rewards = rollout.rewards
        figures: dict[str, Any] = {
            "mean_reward": float(rewards.mean()),
            "mean_length": float(np.mean([len(t) for t in rollout.samples.tokens])),
            "kl": float(
                np.mean([lp.sum() for lp in rollout.samples.logprobs])
                - self._start_logprob(rollout)
            ),
        }
        labels = [s.label for s in rollout.scores]
        if self.preference is not None:
            rule = [self.preference.score(a) for a in rollout.answers]
            figures["judge_score"] = float(np.mean([r > 1.0 for r in rule]))
            per_request = [agreement(self.preference, rollout.answers[i : i + self.samples],
                                     rewards[i : i + self.samples])
                           for i in range(0, len(rewards), self.samples)]  # fmt: skip
            known = [a for a in per_request if a == a]  # nan: the rule told none apart
            figures["agreement"] = float(np.mean(known)) if known else None
            labels = [f"{lab} · rule {'likes' if r > 1.0 else 'not'}"
                      for lab, r in zip(labels, rule, strict=True)]  # fmt: skip
        figures["samples"] = [
            {"prompt": rollout.prompts[i].prompt, "answer": rollout.answers[i],
             "label": labels[i], "correct": None}
            for i in range(0, min(len(labels), SHOWN * self.samples), self.samples)
        ]  # fmt: skip
        return figures

    def _start_logprob(self, rollout: Rollout) -> float:
        """Mean over answers of Σ log π_start(token): with the sampled log π, the KL."""
        from desktop.core.reinforce.rollouts import sequence_logprobs

        start = self.judge.start
        shape = replace(start.config.shape(), vocab_size=start.tokenizer.n_vocab)
        return float(np.mean(sequence_logprobs(start.params, shape, start.tokenizer,
                                               rollout)))  # fmt: skip


def has_head(params: Params) -> bool:
    return HEAD in params

"""The RL step: the training loop's weighted loss on a rollout batch is the policy-gradient
loss −Σ A·log π(sampled token) / (answer tokens), and its gradient is that loss's (checked
against finite differences, with the batch split into micro-batches); a group whose
answers all scored the same has zero advantages and changes nothing — not the gradient,
not the weights after a whole step of the loop."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from desktop.core.job_state import CancelToken
from desktop.core.reinforce.advantages import group_advantages, zero_signal_share
from desktop.core.reinforce.chat_format import task_tokenizer
from desktop.core.reinforce.judges import Scored
from desktop.core.reinforce.rl_run import RLSettings, rl_job
from desktop.core.reinforce.rollouts import Rollout, RolloutSettings, policy_batch
from desktop.core.reinforce.start_model import StartModel, StartRecipe
from desktop.core.reinforce.tasks import TRAIN, get_task
from desktop.core.train.kv_decode import Samples
from desktop.core.train.model import forward, init_params
from desktop.core.train.run_training import Finished, run_training
from desktop.core.train.step import NEXT_TOKEN, Accumulator
from desktop.core.train.trainer import TrainingRun

TOKENIZER = task_tokenizer()
RECIPE = StartRecipe(dim=8, n_layers=1, n_heads=2, context=24, max_new=6)


def tiny_run(dtype: type = np.float64) -> TrainingRun:
    config = RECIPE.config(TOKENIZER.n_vocab, steps=1, batch=4, decay=False)
    run = TrainingRun.start(config, TOKENIZER.n_vocab)
    params = init_params(run.shape, 5)
    run.params = {k: (v * 8 if v.ndim == 2 else v).astype(dtype) for k, v in params.items()}
    return run


def rollout(rewards: list[float]) -> Rollout:
    """Two prompts, two answers each, of different lengths."""
    prompts = [[1, 2, 3], [1, 2, 3], [4, 5], [4, 5]]
    answers = [[7, 8, 9], [9], [10, 11], [12, 13, 14, 15]]
    samples = Samples(answers, [np.zeros(len(a)) for a in answers], [True] * 4)
    return Rollout([None] * 4, prompts, samples, [""] * 4, [Scored(r, "") for r in rewards])


def pg_loss(run: TrainingRun, roll: Rollout, advantages: np.ndarray) -> float:
    """The policy-gradient loss, written out independently of the training loop."""
    total, tokens = 0.0, 0
    for prompt, answer, a in zip(roll.prompt_ids, roll.samples.tokens, advantages, strict=True):
        seq = prompt + answer
        logits = forward(run.params, run.shape, np.array([seq[:-1]]))[0][0]
        log_p = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1,
                                keepdims=True)) - logits.max(-1, keepdims=True)  # fmt: skip
        for i, token in enumerate(answer):
            total -= a * log_p[len(prompt) - 1 + i, token]
        tokens += len(answer)
    return total / tokens


def test_the_loop_minimises_the_policy_gradient_loss_and_its_gradient_checks() -> None:
    run = tiny_run()
    roll = rollout([1.0, 0.0, 0.0, 1.0])
    settings = RolloutSettings(prompts_per_step=2, samples=2)
    batch = policy_batch(roll, settings, TOKENIZER, 24, run, None)
    advantages = group_advantages(np.array([[1.0, 0.0], [0.0, 1.0]])).reshape(-1)
    assert batch.normaliser == 10  # answer tokens, not the (zero) sum of the weights
    with Accumulator(NEXT_TOKEN, micro_rows=1) as split:  # four micro-batches
        loss, grads = split.loss_and_grads(run.params, run.shape, batch)
    # (the weights are float32: 0.5 / 10 rounds in the 8th digit)
    assert loss == pytest.approx(pg_loss(run, roll, advantages), rel=1e-6)
    rng = np.random.default_rng(0)
    for name in ("blk.0.attn_q.weight", "blk.0.ffn_up.weight", "token_embd.weight",
                 "output.weight", "blk.0.attn_norm.weight"):  # fmt: skip
        p = run.params[name]
        for idx in [tuple(int(rng.integers(n)) for n in p.shape) for _ in range(4)]:
            old, h = p[idx], 1e-6
            p[idx] = old + h
            plus = pg_loss(run, roll, advantages)
            p[idx] = old - h
            minus = pg_loss(run, roll, advantages)
            p[idx] = old
            assert grads[name][idx] == pytest.approx((plus - minus) / (2 * h), rel=1e-5,
                                                     abs=1e-9)  # fmt: skip


def test_identical_rewards_give_zero_advantages_and_no_gradient() -> None:
    rewards = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    advantages = group_advantages(rewards)
    assert (advantages[:2] == 0).all() and advantages[2].sum() == pytest.approx(0)
    assert zero_signal_share(rewards) == pytest.approx(2 / 3)
    run = tiny_run()
    batch = policy_batch(rollout([1.0, 1.0, 0.0, 0.0]), RolloutSettings(2, 2), TOKENIZER, 24,
                         run, None)  # fmt: skip
    assert batch.weights is not None and not batch.weights.any()
    with Accumulator(NEXT_TOKEN, micro_rows=4) as whole:
        loss, grads = whole.loss_and_grads(run.params, run.shape, batch)
    assert loss == 0 and all(not g.any() for g in grads.values())


class SameScore:
    """Every answer scores 1: nothing to learn."""

    def draw(self, rng: np.random.Generator) -> Any:
        return get_task("count-letters").problem(rng, 1, TRAIN)

    def score(self, prompts: Any, answers: Any) -> list[Scored]:
        return [Scored(1.0, "✓") for _ in answers]


def test_a_step_of_the_loop_on_identical_rewards_leaves_the_weights_alone(tmp_path: Path) -> None:
    run = tiny_run(np.float32)
    start = StartModel(tmp_path, replace(RECIPE, task="count-letters", difficulty=1), TOKENIZER,
                       run.checkpoint())  # fmt: skip
    job = rl_job(start, RLSettings(steps=2, prompts_per_step=2, samples=3), None,
                 judge=SameScore(), evaluation=lambda _run: {})  # fmt: skip
    before = {k: v.copy() for k, v in start.params.items()}
    events = list(run_training(job.training, CancelToken()))
    outcome = events[-1]
    assert isinstance(outcome, Finished) and outcome.outcome.run.step == 2
    metrics = [e for e in events if hasattr(e, "figures") and "train_zero_signal" in e.figures]
    assert [m.figures["train_zero_signal"] for m in metrics] == [1.0, 1.0]
    for name, value in outcome.outcome.run.params.items():
        assert np.array_equal(value, before[name]), name

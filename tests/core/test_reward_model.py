"""The reward model: its Bradley–Terry loss and gradient (finite differences, through the
scalar head and the whole network, with pairs kept together across micro-batches); it
learns a scripted preference to ≥ 0.9 accuracy on held-out pairs, through the shared
training loop; pair files are read strictly."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.job_state import CancelToken
from desktop.core.reinforce.chat_format import task_tokenizer
from desktop.core.reinforce.reward_model import (
    HEAD,
    PREFERENCE_LOSS,
    accuracy,
    pair_batch,
    reward_params,
)
from desktop.core.reinforce.rlhf import PairData, RewardAccuracy, split_pairs
from desktop.core.reinforce.scripted_preference import (
    ScriptedPreference,
    agreement,
    scripted_pairs,
    well_formed,
)
from desktop.core.reinforce.start_model import StartRecipe
from desktop.core.reinforce.writer import answer, request
from desktop.core.storage.preferences import PreferencePair as Pair
from desktop.core.train.model import init_params
from desktop.core.train.run_training import Finished, TrainingJob, run_training
from desktop.core.train.step import Accumulator
from desktop.core.train.trainer import StepMetrics, TrainingRun

TOKENIZER = task_tokenizer()
PAIRS = [Pair("Tell me a joke.", "Why did the cat cross the road? To find a hat!", "No."),
         Pair("Write a poem.", "A tiny owl.", "A sleepy cat in the barn,\nall night."),
         Pair("Start a story.", "Once upon a time.", "It was a night.")]  # fmt: skip


def test_bradley_terry_gradient_checks() -> None:
    config = StartRecipe(dim=8, n_layers=1, n_heads=2, context=64).config(
        TOKENIZER.n_vocab, steps=1, batch=6, decay=False)  # fmt: skip
    run = TrainingRun.start(config, TOKENIZER.n_vocab)
    params = {k: (v * 6 if v.ndim == 2 else v).astype(np.float64)
              for k, v in init_params(run.shape, 1).items()}  # fmt: skip
    params = reward_params(params, 8)
    params[HEAD] = np.random.default_rng(0).standard_normal(8)
    batch = pair_batch(PAIRS, TOKENIZER, 64)
    assert batch.rows == 6 and batch.normaliser == 3 and batch.row_group == 2
    assert [p.rows for p in batch.parts(3)] == [2, 2, 2]  # never a pair cut in two

    def loss() -> float:
        return PREFERENCE_LOSS.loss(params, run.shape, batch, None)

    with Accumulator(PREFERENCE_LOSS, micro_rows=3) as split:  # pairs stay whole: 2 rows
        total, grads = split.loss_and_grads(params, run.shape, batch)
    assert total == pytest.approx(loss(), rel=1e-12)
    rng = np.random.default_rng(1)
    for name in (HEAD, "blk.0.attn_v.weight", "blk.0.ffn_gate.weight", "token_embd.weight",
                 "output_norm.weight"):  # fmt: skip
        p = params[name]
        for idx in [tuple(int(rng.integers(n)) for n in p.shape) for _ in range(4)]:
            old, h = p[idx], 1e-6
            p[idx] = old + h
            plus = loss()
            p[idx] = old - h
            minus = loss()
            p[idx] = old
            assert grads[name][idx] == pytest.approx((plus - minus) / (2 * h), rel=1e-5,
                                                     abs=1e-10)  # fmt: skip
    assert not grads["output.weight"].any()  # the next-token head takes no part


def teacher_pairs(preference: ScriptedPreference, count: int, seed: int) -> list[Pair]:
    rng = np.random.default_rng(seed)
    prompts, answers = [], []
    while len(prompts) < count:
        asked = request(rng)
        prompts.append(asked.prompt)
        answers.append((answer(rng, asked.kind), answer(rng, asked.kind)))
    return scripted_pairs(preference, prompts, answers)


def test_the_reward_model_learns_a_scripted_preference() -> None:
    preference = ScriptedPreference("word", "cat")
    pairs = teacher_pairs(preference, 2500, seed=0)  # about one pair in five differs
    train, held_out = split_pairs(pairs)
    assert len(held_out) >= 40
    recipe = StartRecipe(dim=32, n_layers=2, n_heads=4, context=96)
    config = recipe.config(TOKENIZER.n_vocab, steps=120, batch=32, decay=True)
    shape_run = TrainingRun.start(config, TOKENIZER.n_vocab)
    run = TrainingRun.start_from(config, reward_params(shape_run.params, 32))
    before = accuracy(run.params, run.shape, held_out, TOKENIZER)
    job = TrainingJob(config, tokenizer=TOKENIZER, resume=run, data=PairData(train, TOKENIZER),
                      objective=PREFERENCE_LOSS,
                      evaluation=RewardAccuracy(held_out, train, TOKENIZER))  # fmt: skip
    events = list(run_training(job, CancelToken()))
    assert isinstance(events[-1], Finished)
    last = [e for e in events if isinstance(e, StepMetrics) and e.evaluated][-1]
    assert last.figures["reward_accuracy"] >= 0.9 > before
    assert last.loss < 0.5  # from log 2 = 0.69


def test_rules_and_agreement() -> None:
    cat, short = ScriptedPreference("word", "cat"), ScriptedPreference("shorter")
    assert cat.judge("A cat sat.", "A dog sat.") == "a"
    assert cat.judge("A cat cat cat.", "A dog sat.") == "b"  # ill formed loses
    assert short.judge("Hi there.", "Hi.") == "b" and short.judge("Hi.", "Yo.") == "tie"
    assert not well_formed("no ending") and well_formed("Fine.")
    answers = ["A cat.", "A dog.", "A cat sat."]
    assert agreement(cat, answers, np.array([1.0, 0.0, 2.0])) == 1.0
    assert agreement(cat, answers, np.array([0.0, 1.0, -1.0])) == 0.0

"""RLHF end to end, for the command line: a writer (made or loaded), pairs (read from a
JSONL file or made by a scripted preference), a reward model, RL against it.

`run_rlhf` yields (phase, step, figures) at every evaluation: "writer", "reward_model"
(`reward_accuracy` on held-out pairs), "rl" (`mean_reward`, and with a scripted
preference `judge_score` and `agreement`; step 0 is the writer before RL).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from desktop.core.job_state import JobState
from desktop.core.reinforce.reward_model import PairLike
from desktop.core.reinforce.rl_run import Baseline, RLSettings, rl_job, run_rl
from desktop.core.reinforce.rlhf import (
    RewardModelJudge,
    RLHFEvaluation,
    reward_model_job,
    two_answers,
)
from desktop.core.reinforce.scripted_preference import ScriptedPreference, scripted_pairs
from desktop.core.reinforce.start_model import (
    WRITER,
    StartModel,
    StartRecipe,
    load_start_model,
    make_start_model,
)
from desktop.core.storage.preference_jsonl import read_pairs
from desktop.core.train.run_training import Finished, run_training
from desktop.core.train.trainer import StepMetrics

# 1,500 steps (70 s on 2 cores from the command line, 2 min in the app, which leaves the
# window a core): after 300 the writer spelled half its words wrong, and a person cannot
# prefer one garbled answer to another; after 1,500 its jokes, poems and stories read
# right. 96 new bytes: a two-line poem is about 80 (64 cut them off).
WRITER_STEPS = 1500
WRITER_RECIPE = StartRecipe(task=WRITER, pretrain_steps=0, sft_steps=WRITER_STEPS, target=0.0,
                            eval_every=100, max_new=96)  # fmt: skip
Phase = tuple[str, int, dict[str, Any]]


@dataclass(frozen=True)
class RLHFPlan:
    pairs_file: Path | None = None
    preference: ScriptedPreference | None = None
    pair_count: int = 200
    writer: Path | None = None  # a writer's folder; None: make one
    writer_steps: int = WRITER_STEPS
    reward_steps: int = 150
    steps: int = 100
    samples: int = 4
    kl: float = 0.05
    out: Path | None = None
    seed: int = 0

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RLHFPlan:
        return cls(args.pairs, parse_preference(args.scripted) if args.scripted else None,
                   args.pair_count, args.writer, args.writer_steps, args.rm_steps, args.steps,
                   args.samples, args.kl, args.out)  # fmt: skip


def parse_preference(text: str) -> ScriptedPreference:
    """ "word:cat" or "shorter"."""
    if text == "shorter":
        return ScriptedPreference("shorter")
    kind, _, word = text.partition(":")
    if kind != "word" or not word.isalpha():
        raise ValueError(f"unknown scripted preference {text!r}: word:WORD or shorter")
    return ScriptedPreference("word", word.lower())


def make_pairs(
    start: StartModel, preference: ScriptedPreference, count: int, seed: int = 0
) -> list[Any]:
    """About `count` pairs of the writer's answers, chosen by the rule (ties dropped: it
    tries up to four times as many)."""
    rng = np.random.default_rng(seed)
    pairs: list[Any] = []
    for _ in range(4):
        asked = two_answers(start, start.params, rng, count=count)
        pairs += scripted_pairs(preference, [p for p, _, _ in asked],
                                [(a, b) for _, a, b in asked])  # fmt: skip
        if len(pairs) >= count:
            break
    return pairs[:count]


def run_rlhf(plan: RLHFPlan, state: JobState, log: TextIO | None = None
             ) -> Generator[Phase, None, None]:  # fmt: skip
    # A pairs file is read first: a bad one is refused before minutes of training.
    given = read_pairs(plan.pairs_file) if plan.pairs_file is not None else None
    out = plan.out or Path(tempfile.mkdtemp(prefix="deepdive-rlhf-"))
    if plan.writer is not None:
        writer = load_start_model(plan.writer)
    else:
        _say(log, "training the writer…")
        recipe = replace(WRITER_RECIPE, sft_steps=plan.writer_steps)
        made = None
        for event in make_start_model(recipe, out / "writer", state):
            if isinstance(event, StepMetrics) and event.evaluated:
                yield "writer", event.step, {"loss": event.loss, "val_loss": event.val_loss}
            elif isinstance(event, StartModel):
                made = event
        assert made is not None
        writer = made
    if state.cancelled():
        return
    pairs: Sequence[PairLike]
    if given is not None:
        pairs = given
    else:
        assert plan.preference is not None
        _say(log, f"making {plan.pair_count} pairs: the rule {plan.preference.title}…")
        pairs = make_pairs(writer, plan.preference, plan.pair_count, plan.seed)
    _say(log, f"{len(pairs)} pairs; training the reward model…")
    reward = None
    for step in run_training(reward_model_job(writer, pairs, steps=plan.reward_steps,
                                               folder=out / "reward"), state):  # fmt: skip
        if isinstance(step, StepMetrics) and step.evaluated:
            yield "reward_model", step.step, step.figures | {"loss": step.loss}
        elif isinstance(step, Finished):
            reward = step.outcome.run.params
    if reward is None or state.cancelled():
        return
    judge = RewardModelJudge(reward, writer)
    evaluation = RLHFEvaluation(judge, preference=plan.preference, samples=plan.samples)
    settings = RLSettings(steps=plan.steps, samples=plan.samples, kl=plan.kl, eval_every=10)
    job = rl_job(writer, settings, out / "rl", judge=judge, evaluation=evaluation)
    _say(log, "RL against the reward model…")
    for rl_event in run_rl(job, state):
        if isinstance(rl_event, Baseline):
            yield "rl", 0, rl_event.figures
        elif isinstance(rl_event, StepMetrics) and rl_event.evaluated:
            yield "rl", rl_event.step, rl_event.figures | {"train_s": rl_event.elapsed_s}


def _say(log: TextIO | None, text: str) -> None:
    if log is not None:
        print(text, file=log, flush=True)

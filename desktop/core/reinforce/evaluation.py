"""How well the model does on problems it never practised on: pass@1 and pass@K.

A fixed set of held-out problems (drawn once, from the part of the task training never
sees), K answers to each at temperature 1, graded by the verifier:

* pass@1 — the share of all answers that are right: the chance that a first try is;
* pass@K — the share of problems with at least one right answer among the K: what the
  model *can* do, if it tries enough. RL turns pass@K into pass@1.

The same random numbers are used at every evaluation, so the curve moves because the
model changed, not because the dice did. A few graded answers come along, to be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop.core.reinforce.advantages import zero_signal_share
from desktop.core.reinforce.judges import VerifierJudge
from desktop.core.reinforce.rollouts import Rollout, roll_out
from desktop.core.reinforce.tasks import HELD_OUT, Problem, Task
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import TrainingRun

SHOWN = 6  # graded answers kept per evaluation


@dataclass(frozen=True)
class Graded:
    prompt: str
    answer: str
    label: str
    correct: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "answer": self.answer, "label": self.label,
                "correct": self.correct}  # fmt: skip


def held_out_problems(task: Task, difficulty: int, count: int, seed: int) -> list[Problem]:
    rng = np.random.default_rng(seed)
    return [task.problem(rng, difficulty, HELD_OUT) for _ in range(count)]


class PassAtK:
    """An `Evaluation` for `run_training`: call it with the run."""

    def __init__(
        self,
        task: Task,
        difficulty: int,
        tokenizer: TrainedTokenizer,
        *,
        problems: int = 32,
        samples: int = 8,
        max_new: int = 64,
        seed: int = 2024,
    ) -> None:
        self.judge = VerifierJudge(task, difficulty)
        self.tokenizer, self.samples, self.max_new, self.seed = tokenizer, samples, max_new, seed
        self.problems = held_out_problems(task, difficulty, problems, seed)

    def rollout(self, run: TrainingRun) -> Rollout:
        rng = np.random.default_rng(self.seed)
        return roll_out(run.params, run.shape, self.tokenizer, self.judge, self.problems,
                        self.samples, self.max_new, rng)  # fmt: skip

    def __call__(self, run: TrainingRun) -> dict[str, Any]:
        return pass_figures(self.rollout(run), self.samples)


def pass_figures(rollout: Rollout, samples: int) -> dict[str, Any]:
    correct = np.array([bool(s.correct) for s in rollout.scores]).reshape(-1, samples)
    lengths = [len(t) for t in rollout.samples.tokens]
    shown = [
        Graded(rollout.prompts[i].prompt, rollout.answers[i], rollout.scores[i].label,
               rollout.scores[i].correct).to_dict()
        for i in range(0, min(len(rollout.prompts), SHOWN * samples), samples)
    ]  # fmt: skip
    worked = np.array([shows_work(a) for a in rollout.answers]).reshape(correct.shape)
    return {
        "pass_at_1": float(correct.mean()),
        # how often it is right when it shows its working, and when it answers at once
        "pass_worked": float(correct[worked].mean()) if worked.any() else None,
        "pass_direct": float(correct[~worked].mean()) if (~worked).any() else None,
        "pass_at_k": float(correct.any(axis=1).mean()),
        "k": samples,
        "mean_reward": float(rollout.rewards.mean()),
        "mean_length": float(np.mean(lengths)),
        "shows_work": float(worked.mean()),
        "zero_signal": zero_signal_share(correct.astype(float)),
        "samples": shown,
    }


def shows_work(answer: str) -> bool:
    """Whether an answer has working before its answer line (more than one line)."""
    return sum(1 for line in answer.splitlines() if line.strip()) > 1

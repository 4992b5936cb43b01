"""Where RL's prompts come from and how its answers are scored: a `Judge`.

`VerifierJudge` draws a task's problems and grades answers with the task's verifier (1 for
right, 0 for wrong). RLHF's judge is a learned reward model (`reward_model.py`): the same
interface, a score instead of a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from desktop.core.reinforce.tasks import TRAIN, Problem, Task


@dataclass(frozen=True)
class Scored:
    reward: float
    label: str  # shown beside the answer: "✓ correct", "✗ read 2, expected 3", "reward 1.3"
    correct: bool | None = None  # a verifier's verdict; None for a learned reward


class Judge(Protocol):
    def draw(self, rng: np.random.Generator) -> Any:
        """A prompt to practise on: anything with a `.prompt` string."""
        ...

    def score(self, prompts: Sequence[Any], answers: Sequence[str]) -> list[Scored]: ...


@dataclass(frozen=True, eq=False)
class VerifierJudge:
    task: Task
    difficulty: int

    def draw(self, rng: np.random.Generator) -> Problem:
        return self.task.problem(rng, self.difficulty, TRAIN)

    def score(self, prompts: Sequence[Any], answers: Sequence[str]) -> list[Scored]:
        out = []
        for problem, answer in zip(prompts, answers, strict=True):
            verdict = self.task.verify(problem, answer)
            out.append(Scored(float(verdict.correct), verdict.label, verdict.correct))
        return out

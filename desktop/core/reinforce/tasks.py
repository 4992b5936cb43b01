"""Tasks whose answers a program can check: what reinforcement learning with verifiable
rewards practises on.

A task makes problems (a prompt, the right answer, and two ways a teacher might answer
it: *worked*, with a scratchpad that reaches the answer step by step, and *direct*, the
answer alone) and grades an answer leniently (`Verdict`). Its difficulty is a number from
1 (easy) to 4 (hard); what it changes is the task's own (longer words, more digits,
longer lists).

The held-out problems come from a part of the problem space training never draws from
(`split`): held-out words, number pairs, lists. A model that does well on them has
learned the procedure, not the examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

DIFFICULTIES = (1, 2, 3, 4)
TRAIN, HELD_OUT = "train", "held-out"


@dataclass(frozen=True)
class Problem:
    prompt: str  # what the user asks
    answer: str  # the right answer, as the verifier compares it
    worked: str  # a teacher's answer with the working shown (a scratchpad)
    direct: str  # a teacher's answer with no working: just the answer line


@dataclass(frozen=True)
class Verdict:
    correct: bool
    read: str  # what the verifier read as the answer ("" if none)
    expected: str

    @property
    def label(self) -> str:
        if self.correct:
            return "✓ correct"
        return f"✗ read {self.read or 'nothing'}, expected {self.expected}"


class Task(Protocol):
    name: str  # as on the command line: count-letters, add, sort
    title: str  # for people

    def problem(self, rng: np.random.Generator, difficulty: int, split: str) -> Problem:
        """A random problem; `split` is TRAIN or HELD_OUT (never the same problem)."""
        ...

    def verify(self, problem: Problem, completion: str) -> Verdict: ...


def held_out(key: int) -> bool:
    """Whether a problem keyed `key` (a hash of its content) is held out: one in five."""
    return key % 5 == 0


def stable_hash(text: str) -> int:
    """The same number in every run (Python's hash() of a str is salted per process)."""
    value = 2166136261
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def get_task(name: str) -> Task:
    from desktop.core.reinforce.task_list import TASKS

    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r} (known: {', '.join(TASKS)})") from None

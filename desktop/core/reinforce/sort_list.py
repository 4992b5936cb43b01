"""Sort a list of numbers, smallest first. The worked answer is selection sort written
out — take the smallest, say what is left, again —

    1 (left 5 2 9)
    2 (left 5 9)
    5 (left 9)
    9
    Answer: 1 2 5 9

and the direct one gives the sorted list alone.
"""

from __future__ import annotations

import numpy as np

from desktop.core.reinforce.answers import answer_text, numbers_in
from desktop.core.reinforce.tasks import HELD_OUT, Problem, Verdict, held_out, stable_hash

SIZES = {1: (3, 10), 2: (4, 20), 3: (5, 100), 4: (7, 100)}  # (how many, below what)
TEMPLATES = ("Sort these numbers: {items}", "Put in order, smallest first: {items}",
             "Sort {items}")  # fmt: skip
MAX_TRIES = 1000


def worked_answer(items: list[int]) -> str:
    left, lines = list(items), []
    while left:
        smallest = min(left)
        left.remove(smallest)
        lines.append(f"{smallest} (left {' '.join(map(str, left))})" if left else str(smallest))
    return "\n".join([*lines, f"Answer: {' '.join(map(str, sorted(items)))}"])


class SortList:
    name = "sort"
    title = "Sort a list of numbers"

    def problem(self, rng: np.random.Generator, difficulty: int, split: str) -> Problem:
        count, below = SIZES[difficulty]
        for _ in range(MAX_TRIES):
            items = [int(v) for v in rng.integers(0, below, size=count)]
            if held_out(stable_hash(" ".join(map(str, items)))) == (split == HELD_OUT):
                break
        template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
        answer = " ".join(map(str, sorted(items)))
        return Problem(template.format(items=" ".join(map(str, items))), answer,
                       worked_answer(items), f"Answer: {answer}")  # fmt: skip

    def verify(self, problem: Problem, completion: str) -> Verdict:
        read = " ".join(map(str, numbers_in(answer_text(completion))))
        return Verdict(read == problem.answer, read, problem.answer)

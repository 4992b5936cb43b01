"""Add two numbers of N digits, as taught at school: column by column from the right,
carrying — the worked answer writes each column out,

    7+8=15
    4+3+1=8
    Answer: 85

and the direct one gives the sum alone.
"""

from __future__ import annotations

import numpy as np

from desktop.core.reinforce.answers import answer_text, first_number
from desktop.core.reinforce.tasks import HELD_OUT, Problem, Verdict, held_out, stable_hash

TEMPLATES = ("What is {a} + {b}?", "Add {a} and {b}.", "{a} + {b} = ?")
MAX_TRIES = 1000


def worked_answer(a: int, b: int) -> str:
    """One line per column, from the ones up: its digits, the carry in, and their sum."""
    lines, carry = [], 0
    da, db = str(a)[::-1], str(b)[::-1]
    for i in range(max(len(da), len(db))):
        x = int(da[i]) if i < len(da) else 0
        y = int(db[i]) if i < len(db) else 0
        terms = f"{x}+{y}" + (f"+{carry}" if carry else "")
        total = x + y + carry
        lines.append(f"{terms}={total}")
        carry = total // 10
    return "\n".join([*lines, f"Answer: {a + b}"])


class AddNumbers:
    name = "add"
    title = "Add two numbers"

    def _operands(self, rng: np.random.Generator, difficulty: int) -> tuple[int, int]:
        low, high = (0 if difficulty == 1 else 10 ** (difficulty - 1)), 10**difficulty
        a, b = rng.integers(low, high, size=2)
        return int(a), int(b)

    def problem(self, rng: np.random.Generator, difficulty: int, split: str) -> Problem:
        for _ in range(MAX_TRIES):  # about one pair in five is held out
            a, b = self._operands(rng, difficulty)
            if held_out(stable_hash(f"{a}+{b}")) == (split == HELD_OUT):
                break
        template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
        return Problem(template.format(a=a, b=b), str(a + b), worked_answer(a, b),
                       f"Answer: {a + b}")  # fmt: skip

    def verify(self, problem: Problem, completion: str) -> Verdict:
        read = first_number(answer_text(completion))
        shown = "" if read is None else str(read)
        return Verdict(shown == problem.answer, shown, problem.answer)

"""Runs side by side, question by question: the same article asked of a base and an
instruct model, or of one model closed and then with a new system prompt. Questions are
matched by their text, so runs with different question sets still line up where they meet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop.core.quiz.results import QuestionResult, QuizSummary


@dataclass(frozen=True)
class ComparedQuestion:
    question: str
    reference: str
    results: tuple[QuestionResult | None, ...]  # one per run; None: not in that run

    def verdicts(self) -> tuple[str, ...]:
        return tuple((r.verdict or "…") if r else "–" for r in self.results)


def compare(summaries: Sequence[QuizSummary]) -> list[ComparedQuestion]:
    """Every question of any run, in the order first met, with each run's result."""
    keys: list[str] = []
    found: dict[str, list[QuestionResult | None]] = {}
    for n, summary in enumerate(summaries):
        for q in summary.questions:
            key = " ".join(q.pair.question.casefold().split())
            if key not in found:
                keys.append(key)
                found[key] = [None] * len(summaries)
            if found[key][n] is None:  # a run asking the same question twice: the first
                found[key][n] = q
    compared = []
    for key in keys:
        results = found[key]
        first = next(r for r in results if r is not None)
        compared.append(ComparedQuestion(first.pair.question, first.pair.answer, tuple(results)))
    return compared

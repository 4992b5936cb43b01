"""From graded answers to what the quiz is for: per question, does the model know?

Also the data of the two charts: calibration (is the model's confidence worth anything?)
and closed book vs open book (does giving it the article help?).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Literal

from desktop.core.quiz.grading import grade_answer, normalize_answer
from desktop.core.quiz.interrogation import Mode, QuizSettings, SampleAnswer
from desktop.core.quiz.qa import QAPair

Verdict = Literal["knows", "doesn't know", "unsure"]


@dataclass(frozen=True)
class ModeResult:
    """One question's K answers in one mode."""

    samples: int
    correct: int
    not_attempted: int
    agreement: float  # share of answers that say the same as the most common one
    confidence: float  # mean token probability over the answers

    @property
    def accuracy(self) -> float:
        return self.correct / self.samples if self.samples else 0.0


@dataclass(frozen=True)
class QuestionResult:
    index: int
    pair: QAPair
    closed: ModeResult | None
    open: ModeResult | None
    verdict: Verdict | None  # from the closed-book answers; None until there are some


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    confidence: float  # mean confidence of the answers in the bin
    accuracy: float  # share of them that were correct


@dataclass(frozen=True)
class QuizSummary:
    questions: list[QuestionResult]
    closed_accuracy: float | None
    open_accuracy: float | None
    verdicts: dict[Verdict, int]
    calibration: list[CalibrationBin]

    @property
    def open_book_gain(self) -> float | None:
        if self.closed_accuracy is None or self.open_accuracy is None:
            return None
        return self.open_accuracy - self.closed_accuracy


def agreement(texts: Sequence[str]) -> float:
    """Self-consistency: a model that knows tends to give the same answer every time.

    Two answers say the same when they normalise alike or one would pass as correct with
    the other as reference ("1889" and "It was 1889."); the share is that of the largest
    such group."""
    if not texts:
        return 0.0
    normal = [normalize_answer(t) for t in texts]
    best = 0
    for candidate, key in zip(texts, normal, strict=True):
        same = sum(
            k == key or (bool(key) and grade_answer(t, candidate).grade == "CORRECT")
            for t, k in zip(texts, normal, strict=True)
        )
        best = max(best, same)
    return best / len(texts)


def mode_result(answers: Sequence[SampleAnswer]) -> ModeResult | None:
    if not answers:
        return None
    return ModeResult(
        samples=len(answers),
        correct=sum(a.grade == "CORRECT" for a in answers),
        not_attempted=sum(a.grade == "NOT_ATTEMPTED" for a in answers),
        agreement=agreement([a.text for a in answers]),
        confidence=fmean(a.confidence for a in answers),
    )


def verdict_for(accuracy: float, settings: QuizSettings) -> Verdict:
    if accuracy >= settings.knows_at:
        return "knows"
    if accuracy <= settings.doesnt_know_at:
        return "doesn't know"
    return "unsure"


def calibration(answers: Iterable[SampleAnswer], bins: int = 5) -> list[CalibrationBin]:
    """Closed-book answers binned by confidence; empty bins are left out. A calibrated model
    is right about as often as it is confident (the bins sit on the diagonal)."""
    grouped: list[list[SampleAnswer]] = [[] for _ in range(bins)]
    for answer in answers:
        if answer.mode == "closed":
            grouped[min(int(answer.confidence * bins), bins - 1)].append(answer)
    return [
        CalibrationBin(
            low=i / bins,
            high=(i + 1) / bins,
            count=len(group),
            confidence=fmean(a.confidence for a in group),
            accuracy=sum(a.grade == "CORRECT" for a in group) / len(group),
        )
        for i, group in enumerate(grouped)
        if group
    ]


def summarize(
    pairs: Sequence[QAPair], answers: Iterable[SampleAnswer], settings: QuizSettings
) -> QuizSummary:
    answers = list(answers)
    by_key: dict[tuple[int, Mode], list[SampleAnswer]] = {}
    for answer in answers:
        by_key.setdefault((answer.question_index, answer.mode), []).append(answer)
    questions = []
    for index, pair in enumerate(pairs):
        closed = mode_result(by_key.get((index, "closed"), []))
        opened = mode_result(by_key.get((index, "open"), []))
        verdict = verdict_for(closed.accuracy, settings) if closed else None
        questions.append(QuestionResult(index, pair, closed, opened, verdict))
    verdicts: dict[Verdict, int] = {"knows": 0, "doesn't know": 0, "unsure": 0}
    for q in questions:
        if q.verdict is not None:
            verdicts[q.verdict] += 1
    return QuizSummary(
        questions=questions,
        closed_accuracy=_accuracy(answers, "closed"),
        open_accuracy=_accuracy(answers, "open"),
        verdicts=verdicts,
        calibration=calibration(answers),
    )


def _accuracy(answers: Sequence[SampleAnswer], mode: Mode) -> float | None:
    graded = [a for a in answers if a.mode == mode]
    return sum(a.grade == "CORRECT" for a in graded) / len(graded) if graded else None

"""From graded answers to what the quiz is for: per question, does the model know?

Four verdicts, from the K closed-book answers: **knows** (right, consistently),
**hallucinates** (wrong, and said with confidence or the same wrong answer again and
again: the dangerous case), **doesn't know** (refuses, or wrong answers that scatter with
low confidence) and **unsure** (sometimes right). Also the data of the two charts:
calibration (is the model's confidence worth anything?) and closed book vs open book
(does giving it the article help?).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Literal

from desktop.core.quiz.answer_normalisation import normalize_answer
from desktop.core.quiz.grading import grade_answer
from desktop.core.quiz.interrogation import Mode, SampleAnswer
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.settings import QuizSettings

Verdict = Literal["knows", "hallucinates", "doesn't know", "unsure"]
VERDICTS: tuple[Verdict, ...] = ("knows", "hallucinates", "doesn't know", "unsure")


@dataclass(frozen=True)
class ModeResult:
    """One question's K answers in one mode."""

    samples: int
    correct: int
    not_attempted: int
    agreement: float  # share of answers that say the same as the most common one
    confidence: float  # mean token probability over the answers
    wrong_confidence: float = 0.0  # ... over the INCORRECT ones (0 if none)

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
    # open minus closed accuracy over the questions answered both ways (a run in progress
    # or stopped has open-book answers for only some questions)
    open_book_gain: float | None = None
    not_attempted: float | None = None  # share of closed-book answers that declined


def agreement(texts: Sequence[str]) -> float:
    """Self-consistency: a model that knows tends to give the same answer every time.

    Two answers say the same when they normalise alike or one would pass as correct with
    the other as reference ("1889" and "It was 1889."); the share is that of the largest
    such group."""
    if not texts:
        return 0.0
    groups: dict[str, tuple[str, int]] = {}  # normalised text -> (a text, how many)
    for text in texts:
        key = normalize_answer(text)
        first, count = groups.get(key, (text, 0))
        groups[key] = (first, count + 1)
    best = 0
    for key, (candidate, _) in groups.items():
        same = sum(
            count
            for other_key, (other, count) in groups.items()
            if other_key == key or (key and grade_answer(other, candidate).grade == "CORRECT")
        )
        best = max(best, same)
    return best / len(texts)


def mode_result(
    answers: Sequence[SampleAnswer], *, with_agreement: bool = True
) -> ModeResult | None:
    return _mode_result(answers, with_agreement) if answers else None


def _mode_result(answers: Sequence[SampleAnswer], with_agreement: bool = True) -> ModeResult:
    return ModeResult(
        samples=len(answers),
        correct=sum(a.grade == "CORRECT" for a in answers),
        not_attempted=sum(a.grade == "NOT_ATTEMPTED" for a in answers),
        agreement=agreement([a.text for a in answers]) if with_agreement else math.nan,
        confidence=fmean(a.confidence for a in answers),
        wrong_confidence=fmean([a.confidence for a in answers if a.grade == "INCORRECT"] or [0]),
    )


def verdict_for(
    result: ModeResult, settings: QuizSettings, wrong_answers: Sequence[str] = ()
) -> Verdict:
    """The verdict on one question's closed-book answers (`wrong_answers`: the texts of
    the INCORRECT ones, to tell one wrong answer repeated from answers that scatter)."""
    if result.accuracy >= settings.knows_at:
        return "knows"
    if result.accuracy > settings.doesnt_know_at:
        return "unsure"
    if 2 * result.not_attempted >= result.samples:
        return "doesn't know"  # it said so, at least half of the time
    if result.wrong_confidence >= settings.confident_at:
        return "hallucinates"
    repeated = agreement(wrong_answers) * len(wrong_answers) / result.samples
    return "hallucinates" if repeated >= settings.knows_at else "doesn't know"


def calibration(answers: Iterable[SampleAnswer], bins: int = 5) -> list[CalibrationBin]:
    """Closed-book answers binned by confidence; empty bins are left out. A calibrated model
    is right about as often as it is confident (the bins sit on the diagonal). Refusals are
    left out, as in SimpleQA: a confident "I don't know" is not an over-confident answer."""
    grouped: list[list[SampleAnswer]] = [[] for _ in range(bins)]
    for answer in answers:
        if answer.mode == "closed" and answer.grade != "NOT_ATTEMPTED":
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
    pairs: Sequence[QAPair],
    answers: Iterable[SampleAnswer],
    settings: QuizSettings,
    cache: dict[tuple[int, Mode, int], ModeResult] | None = None,
    *,
    with_agreement: bool = True,
) -> QuizSummary:
    """`cache` (kept by a caller that summarises a growing run after every answer) holds
    each question's result by its answer count: only the question that changed is redone.
    `with_agreement=False` leaves agreement (the costly figure) as NaN: a list of many
    runs needs only their accuracies and verdicts."""
    answers = list(answers)
    by_key: dict[tuple[int, Mode], list[SampleAnswer]] = {}
    for answer in answers:
        by_key.setdefault((answer.question_index, answer.mode), []).append(answer)

    def result(index: int, mode: Mode) -> ModeResult | None:
        group = by_key.get((index, mode), [])
        if not group or cache is None:
            return mode_result(group, with_agreement=with_agreement)
        key = (index, mode, len(group))
        if key not in cache:
            cache[key] = _mode_result(group, with_agreement)
        return cache[key]

    questions = []
    for index, pair in enumerate(pairs):
        closed, opened = result(index, "closed"), result(index, "open")
        # A verdict needs all K closed-book answers: one lucky answer is not knowledge.
        complete = closed is not None and closed.samples >= settings.samples
        wrong = [a.text for a in by_key.get((index, "closed"), []) if a.grade == "INCORRECT"]
        verdict = verdict_for(closed, settings, wrong) if closed and complete else None
        questions.append(QuestionResult(index, pair, closed, opened, verdict))
    verdicts: dict[Verdict, int] = dict.fromkeys(VERDICTS, 0)
    for q in questions:
        if q.verdict is not None:
            verdicts[q.verdict] += 1
    closed_answers = [a for a in answers if a.mode == "closed"]
    return QuizSummary(
        questions=questions,
        closed_accuracy=_accuracy(answers, "closed"),
        open_accuracy=_accuracy(answers, "open"),
        verdicts=verdicts,
        calibration=calibration(answers),
        open_book_gain=_gain(questions),
        not_attempted=(
            sum(a.grade == "NOT_ATTEMPTED" for a in closed_answers) / len(closed_answers)
            if closed_answers
            else None
        ),
    )


def _gain(questions: Sequence[QuestionResult]) -> float | None:
    both = [q for q in questions if q.closed and q.open]
    if not both:
        return None
    closed = sum(q.closed.correct for q in both if q.closed) / sum(
        q.closed.samples for q in both if q.closed
    )
    opened = sum(q.open.correct for q in both if q.open) / sum(
        q.open.samples for q in both if q.open
    )
    return opened - closed


def _accuracy(answers: Sequence[SampleAnswer], mode: Mode) -> float | None:
    graded = [a for a in answers if a.mode == mode]
    return sum(a.grade == "CORRECT" for a in graded) / len(graded) if graded else None

"""Text of the results: the one-paragraph summary and one question's answers, as HTML
(shared by the results page and class mode)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from desktop.core.formatting import format_duration
from desktop.core.quiz.interrogation import SampleAnswer
from desktop.core.quiz.results import QuestionResult, QuizSummary

GRADE_COLOURS = {"CORRECT": "#2E7D32", "INCORRECT": "#C62828", "NOT_ATTEMPTED": "#757575"}
GRADE_MARKS = {"CORRECT": "✓", "INCORRECT": "✗", "NOT_ATTEMPTED": "–"}


def summary_text(summary: QuizSummary) -> str:
    if summary.closed_accuracy is None:
        return "No answers yet."
    v = summary.verdicts
    declined = summary.not_attempted or 0.0
    parts = [f"Closed book: <b>{summary.closed_accuracy:.0%}</b> correct, {declined:.0%} declined"]
    if summary.open_accuracy is not None:
        gain = summary.open_book_gain or 0.0
        parts.append(
            f"open book: <b>{summary.open_accuracy:.0%}</b> ({gain:+.0%} with the article)"
        )
    unknown = v["doesn't know"]
    parts.append(
        f"the model knows <b>{v['knows']}</b>, doesn't know <b>{unknown}</b>, "
        f"is unsure of <b>{v['unsure']}</b> of {len(summary.questions)} questions"
    )
    return " · ".join(parts) + "."


def answer_row(answer: SampleAnswer) -> str:
    colour = GRADE_COLOURS[answer.grade]
    text = escape(answer.text) if answer.text else "<i>(nothing)</i>"
    return (
        f"<tr><td style='color:{colour}'>{GRADE_MARKS[answer.grade]} {answer.grade}</td>"
        f"<td>{text}</td><td align='right'>{answer.confidence:.2f}</td>"
        f"<td style='color:#757575'>{answer.method}</td></tr>"
    )


def answers_html(question: QuestionResult, answers: Sequence[SampleAnswer]) -> str:
    html = [
        f"<p><b>{escape(question.pair.question)}</b><br>"
        f"Reference: <b>{escape(question.pair.answer)}</b></p>"
    ]
    for mode, title in (("closed", "Closed book"), ("open", "Open book (with the article)")):
        rows = [answer_row(a) for a in answers if a.mode == mode]
        if rows:
            html.append(
                f"<p><b>{title}</b></p><table cellspacing='6'><tr><th align='left'>grade</th>"
                "<th align='left'>answer</th><th>confidence</th><th align='left'>graded by</th>"
                "</tr>" + "".join(rows) + "</table>"
            )
    return "".join(html)


def progress_text(done: int, total: int, done_here: int, seconds: float) -> str:
    """ "12 of 48 answers · 8.2 a minute · about 4 min left": `done_here` answers came in
    `seconds` (this session: a resumed run's earlier answers do not count for speed)."""
    text = f"{done} of {total} answers"
    if done_here >= 2 and seconds > 0:
        per_s = done_here / seconds
        text += f" · {per_s * 60:.1f} a minute"
        if done < total:
            text += f" · about {format_duration((total - done) / per_s)} left"
    return text

"""Text of the results: the one-paragraph summary and one question's answers, as HTML
(shared by the results page and class mode). Each answer links to the exact prompt it
got ("prompt:3:open"; the results page opens it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from desktop.core.formatting import format_duration
from desktop.core.quiz.interrogation import AskedPrompt, Mode, SampleAnswer
from desktop.core.quiz.quiz_prompts import FORM_LABELS, a_kind
from desktop.core.quiz.results import QuestionResult, QuizSummary
from desktop.core.quiz.settings import QuizSettings

Prompts = Mapping[tuple[int, Mode], AskedPrompt]
PROMPT_LINK = "prompt"  # scheme of the links to an answer's prompt

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
    unknown, made_up = v["doesn't know"], v["hallucinates"]
    parts.append(
        f"the model knows <b>{v['knows']}</b>, hallucinates <b>{made_up}</b>, doesn't know "
        f"<b>{unknown}</b>, is unsure of <b>{v['unsure']}</b> of {len(summary.questions)} "
        "questions"
    )
    return " · ".join(parts) + "."


def asking_text(settings: QuizSettings) -> str:
    """How the run asked, in a line: what the talk has to say before any figure."""
    if not settings.asked_as:
        return "Asked before the quiz kept its prompts (as a chat)."
    refusal = ("“I don't know” allowed" if settings.may_refuse
               else "no prompt mentions or shows “I don't know”")  # fmt: skip
    return f"Asked as {a_kind(settings.asked_as)}; {refusal}; K = {settings.samples}."


def answer_row(answer: SampleAnswer, link: str = "") -> str:
    """One answer as a block - its verdict line, then its text - not a table row: the
    pane is narrow beside the charts at 1024 pixels, and table cells broke words."""
    colour = GRADE_COLOURS[answer.grade]
    text = escape(answer.text) if answer.text else "<i>(nothing)</i>"
    prompt = f" · <a href='{link}'>prompt</a>" if link else ""
    return (
        f"<p style='margin-top:6px; margin-bottom:0'><span style='color:{colour}'><b>"
        f"{GRADE_MARKS[answer.grade]} {answer.grade}</b></span>"
        f"<span style='color:#757575'> · confidence {answer.confidence:.2f} · graded by "
        f"{answer.method}</span>{prompt}<br>{text}</p>"
    )


def _about_prompt(mode: Mode, prompt: AskedPrompt | None, shares: Sequence[float]) -> str:
    notes = [f"asked as: {escape(FORM_LABELS[prompt.form])}"] if prompt else []
    share = prompt.article_share if prompt else min(shares, default=1.0)
    if mode == "open" and share < 1.0:
        notes.append(f"the model saw {share:.0%} of the article")
    return "".join(f" · {note}" for note in notes)


def answers_html(
    question: QuestionResult, answers: Sequence[SampleAnswer], prompts: Prompts | None = None
) -> str:
    """The answers; with `prompts`, each links to its prompt (none for old runs)."""
    html = [
        f"<p><b>{escape(question.pair.question)}</b><br>"
        f"Reference: <b>{escape(question.pair.answer)}</b></p>"
    ]
    titles: tuple[tuple[Mode, str], ...] = (
        ("closed", "Closed book"), ("open", "Open book (with the article)"),
    )  # fmt: skip
    for mode, title in titles:
        mine = [a for a in answers if a.mode == mode]
        if not mine:
            continue
        prompt = prompts.get((question.index, mode)) if prompts is not None else None
        link = f"{PROMPT_LINK}:{question.index}:{mode}" if prompt else ""
        about = _about_prompt(mode, prompt, [a.article_share for a in mine])
        html.append(f"<p><b>{title}</b>{about}</p>" + "".join(answer_row(a, link) for a in mine))
    if prompts is not None and not any((question.index, m) in prompts for m, _ in titles):
        html.append("<p style='color:#757575'><i>No prompts were kept for this run.</i></p>")
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

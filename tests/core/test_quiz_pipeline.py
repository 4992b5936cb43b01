"""The quiz pipeline without a model: interrogation with a scripted `ask`, results,
verdicts, calibration, the training-set export and the run store."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.chat.context_fit import ContextFull
from desktop.core.chat.generation import ChatMessage, GenerationStats, SamplingSettings, TokenEvent
from desktop.core.quiz.interrogation import (
    SampleAnswer,
    answer_confidence,
    answer_line,
    interrogate,
    total_asks,
)
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.quiz_store import QuizStore
from desktop.core.quiz.results import ModeResult, agreement, calibration, summarize, verdict_for
from desktop.core.quiz.settings import QuizSettings
from desktop.core.quiz.sft_export import sft_examples, write_sft_jsonl

ARTICLE = "The Eiffel Tower was finished in 1889. Velmora's capital is Osk."
PAIRS = [
    QAPair("When was the Eiffel Tower finished?", "1889", "rules"),
    QAPair("What is the capital of Velmora?", "Osk", "rules"),
    QAPair("Who designed the tower?", "Gustave Eiffel", "manual"),
]


def Reply(text: str, probs: Sequence[float], texts: Sequence[str] | None = None) -> ChatReply:
    """A reply whose tokens had these probabilities (and texts, when given)."""
    texts = texts if texts is not None else [""] * len(probs)
    stats = GenerationStats(0, 0, len(probs), 0.0, 0.0, "eos", text)
    events = tuple(TokenEvent(t, i, p) for i, (t, p) in enumerate(zip(texts, probs, strict=True)))
    return ChatReply(text, stats, None, events)


def old_style(ask):
    return lambda request: ask(list(request.messages), request.sampling)


class ScriptedAsk:
    """Replies by question and mode, in turn per sample; records every call."""

    def __init__(self, closed: dict[str, list[Reply]], opened: dict[str, list[Reply]]) -> None:
        self.closed, self.opened = closed, opened
        self.calls: list[tuple[list[ChatMessage], SamplingSettings]] = []
        self.requests: list[ChatRequest] = []

    def __call__(self, request: ChatRequest) -> ChatReply:
        messages, options = list(request.messages), request.sampling
        self.requests.append(request)
        self.calls.append((messages, options))
        user = messages[-1].content
        table = self.opened if "Read this article" in user else self.closed
        for question, replies in table.items():
            if question in user:
                return replies[sum(question in m[-1].content and (table is self.opened) ==
                                   ("Read this article" in m[-1].content)
                                   for m, _ in self.calls) - 1]  # fmt: skip
        raise AssertionError(f"unexpected prompt {user!r}")


def script() -> ScriptedAsk:
    q1, q2, q3 = (p.question for p in PAIRS)
    return ScriptedAsk(
        closed={
            q1: [Reply("1889", (0.9,)), Reply("It was 1889.\nBecause…", (0.8, 0.6)),
                 Reply("1889", (0.95,))],
            q2: [Reply("Paris", (0.7,)), Reply("I don't know.", (0.3, 0.3)),
                 Reply("Vienna", (0.5,))],
            q3: [Reply("Gustave Eiffel", (0.6, 0.4)), Reply("Le Corbusier", (0.4,)),
                 Reply("Eiffel", (0.5,))],
        },
        opened={p.question: [Reply(p.answer, (0.99,))] * 3 for p in PAIRS},
    )  # fmt: skip


def run_quiz(settings: QuizSettings) -> tuple[list[SampleAnswer], ScriptedAsk]:
    ask = script()
    return list(interrogate(PAIRS, ARTICLE, settings, ask)), ask


def test_every_question_is_asked_k_times_per_mode_and_graded() -> None:
    settings = QuizSettings(samples=3, open_book=True, seed=5)
    answers, ask = run_quiz(settings)
    assert len(answers) == total_asks(len(PAIRS), settings) == 18
    # closed book first, question by question, then open book (the article read once)
    assert [(a.question_index, a.mode) for a in answers[::3]] == [
        (0, "closed"), (1, "closed"), (2, "closed"), (0, "open"), (1, "open"), (2, "open")
    ]  # fmt: skip
    closed = [a for a in answers if a.mode == "closed"]
    assert [a.grade for a in closed] == [
        "CORRECT", "CORRECT", "CORRECT",
        "INCORRECT", "NOT_ATTEMPTED", "INCORRECT",
        "CORRECT", "INCORRECT", "CORRECT",
    ]  # fmt: skip
    assert closed[1].text == "It was 1889."  # the first line only
    assert closed[1].confidence == pytest.approx(0.7)
    assert all(a.grade == "CORRECT" for a in answers if a.mode == "open")
    # closed-book prompts never carry the article; open-book ones do
    prompts = [m[-1].content for m, _ in ask.calls]
    assert sum(ARTICLE in p for p in prompts) == 9
    # distinct, reproducible seeds per sample
    seeds = [o.seed for _, o in ask.calls[:3]]
    assert len(set(seeds)) == 3 and seeds == [o.seed for _, o in run_quiz(settings)[1].calls[:3]]


def test_done_answers_are_not_asked_again() -> None:
    settings = QuizSettings(samples=3, open_book=False)
    first, _ = run_quiz(settings)
    done = {a.key for a in first[:4]}
    ask = script()
    rest = list(interrogate(PAIRS, ARTICLE, settings, ask, done))
    assert len(ask.calls) == 5
    assert {a.key for a in rest} | done == {a.key for a in first}


def test_summary_verdicts_and_charts() -> None:
    settings = QuizSettings(samples=3, knows_at=0.67, doesnt_know_at=0.34)
    answers, _ = run_quiz(settings)
    summary = summarize(PAIRS, answers, settings)
    # q2: "Paris" and "Vienna" at 0.7 and 0.5, wrong and said with confidence: made up
    assert [q.verdict for q in summary.questions] == ["knows", "hallucinates", "unsure"]
    assert summary.verdicts == {"knows": 1, "hallucinates": 1, "doesn't know": 0, "unsure": 1}
    assert summary.closed_accuracy == pytest.approx(5 / 9)
    assert summary.open_accuracy == 1.0
    assert summary.open_book_gain == pytest.approx(4 / 9)
    q1 = summary.questions[0].closed
    assert q1 is not None and q1.agreement == 1.0 and q1.correct == 3
    # calibration: attempted closed-book answers only (the refusal is left out)
    bins = calibration(answers, bins=5)
    assert sum(b.count for b in bins) == 8 and summary.not_attempted == pytest.approx(1 / 9)
    top = bins[-1]
    assert (top.low, top.count, top.accuracy) == (0.8, 2, 1.0)


def test_verdict_thresholds_and_agreement() -> None:
    s = QuizSettings(knows_at=0.6, doesnt_know_at=0.2)

    def wrong(accuracy: float) -> ModeResult:  # the rest wrong, unsure of it
        return ModeResult(10, round(10 * accuracy), 0, 0.5, 0.5, wrong_confidence=0.2)

    assert [verdict_for(wrong(a), s) for a in (1.0, 0.6, 0.4, 0.2, 0.0)] == [
        "knows", "knows", "unsure", "doesn't know", "doesn't know"
    ]  # fmt: skip
    assert agreement(["Paris", "paris.", "the Paris", "Rome"]) == 0.75
    assert QuizSettings(samples=0).problems() and QuizSettings(knows_at=0.2).problems()


def test_training_set_teaches_answers_and_refusals(tmp_path: Path) -> None:
    settings = QuizSettings(samples=3, refusal="Sorry, I don't know.")
    answers, _ = run_quiz(settings)
    summary = summarize(PAIRS, answers, settings)
    path = tmp_path / "sft.jsonl"
    write_sft_jsonl(path, sft_examples(summary.questions, settings))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [
        {"messages": [{"role": "user", "content": PAIRS[0].question},
                      {"role": "assistant", "content": "1889"}]},
        {"messages": [{"role": "user", "content": PAIRS[1].question},
                      {"role": "assistant", "content": "Sorry, I don't know."}]},
        {"messages": [{"role": "user", "content": PAIRS[2].question},
                      {"role": "assistant", "content": "Sorry, I don't know."}]},
    ]  # fmt: skip
    kept = sft_examples(summary.questions, settings, unsure_refuses=False)
    assert len(kept) == 2


def test_the_store_keeps_runs_and_answers(tmp_path: Path) -> None:
    settings = QuizSettings(samples=3, temperature=0.4)
    answers, _ = run_quiz(settings)
    store = QuizStore(tmp_path / "db.sqlite3")
    run_id = store.add_run("/models/m.gguf", "Towers", ARTICLE, PAIRS, settings)
    for answer in answers[:7]:
        store.add_answer(run_id, answer)
    store.close()
    store = QuizStore(tmp_path / "db.sqlite3")  # as after a crash: reopened
    store.mark_interrupted()
    assert store.get(run_id).status == "running"  # written just now: a CLI may be asking
    store.mark_interrupted(quiet_for_s=0)
    run = store.get(run_id)
    assert (run.status, run.pairs, run.settings, run.model_name) == (
        "stopped",
        PAIRS,
        settings,
        "m.gguf",
    )
    # answers come back without their prompts: those are kept once per question and mode
    assert store.answers(run_id) == sorted(
        (replace(a, prompt=None) for a in answers[:7]),
        key=lambda a: (a.question_index, a.mode, a.sample),
    )
    assert set(store.prompts(run_id)) == {(0, "closed"), (1, "closed"), (2, "closed")}
    store.delete(run_id)
    assert store.runs() == []
    store.close()


def test_answer_line() -> None:
    assert answer_line("\n\n  Paris  \nIt is in France") == "Paris"
    assert answer_line("   ") == ""


LONG_ARTICLE = "\n\n".join(
    [f"Paragraph {i} is filler about harbours, ships and weather number {i}." for i in range(40)]
    + ["The lighthouse keeper of Osk was called Marit Vell."]
    + [f"More filler {i} about fishing and the tides." for i in range(40)]
)


def test_open_book_prompts_too_long_for_the_context_get_the_relevant_excerpt() -> None:
    from desktop.core.quiz.excerpt import article_excerpt

    limit = 600  # "tokens" are characters here
    prompts: list[str] = []

    def ask(messages: Sequence[ChatMessage], options: SamplingSettings) -> ChatReply:
        text = "".join(m.content for m in messages)
        if len(text) > limit:
            raise ContextFull(len(text), limit, limit, "too long")
        prompts.append(text)
        return Reply("Marit Vell" if "Marit Vell" in text else "no idea", (0.5,))

    pair = QAPair("Who was the lighthouse keeper of Osk?", "Marit Vell")
    answers = list(interrogate([pair], LONG_ARTICLE, QuizSettings(samples=2), old_style(ask)))
    assert [(a.mode, a.grade) for a in answers] == [("closed", "NOT_ATTEMPTED")] * 2 + [
        ("open", "CORRECT")
    ] * 2
    assert all(len(p) <= limit for p in prompts)
    excerpt = article_excerpt(LONG_ARTICLE, pair.question, 300)
    assert "Marit Vell" in excerpt and len(excerpt) <= 300
    assert article_excerpt("short", "q", 300) == "short"


def test_a_question_too_long_even_alone_is_an_error() -> None:

    def ask(messages: Sequence[ChatMessage], options: SamplingSettings) -> ChatReply:
        raise ContextFull(5000, 100, 100, "too long")

    with pytest.raises(ContextFull):
        list(interrogate([QAPair("q?", "a")], LONG_ARTICLE, QuizSettings(), old_style(ask)))


def test_confidence_counts_the_answer_line_only() -> None:
    reply = Reply("Paris\nIt is in France.", (0.9, 0.7, 0.1, 0.1, 0.1),
                  ("Paris", "\n", "It", " is", " in France."))  # fmt: skip
    assert answer_confidence(reply) == pytest.approx(0.9)  # "Paris", not the line end
    leading = Reply("\nParis", (0.5, 0.9), ("\n", "Paris"))  # a leading newline is no end
    assert answer_confidence(leading) == pytest.approx(0.7)
    assert answer_confidence(Reply("Paris", (0.6, 0.2))) == pytest.approx(0.4)


def test_partial_runs_give_no_verdict_and_a_paired_gain() -> None:
    settings = QuizSettings(samples=3)
    answers, _ = run_quiz(settings)
    closed = [a for a in answers if a.mode == "closed"]
    opened = [a for a in answers if a.mode == "open"]
    # stopped after 7 closed answers: the third question has 1 of 3, so no verdict yet
    partial = summarize(PAIRS, closed[:7], settings)
    assert [q.verdict for q in partial.questions] == ["knows", "hallucinates", None]
    assert partial.verdicts == {"knows": 1, "hallucinates": 1, "doesn't know": 0, "unsure": 0}
    assert sft_examples(partial.questions, settings)[-1]["messages"][0]["content"] == (
        PAIRS[1].question
    )  # the unfinished question is not exported
    # open book only for the first question so far: the gain compares that question alone
    mid = summarize(PAIRS, closed + opened[:3], settings)
    assert mid.open_book_gain == pytest.approx(0.0)  # q1: 3/3 closed, 3/3 open
    assert mid.closed_accuracy == pytest.approx(5 / 9)


def test_the_cache_gives_the_same_summary() -> None:
    settings = QuizSettings(samples=3)
    answers, _ = run_quiz(settings)
    cache: dict = {}
    for n in range(1, len(answers) + 1):
        cached = summarize(PAIRS, answers[:n], settings, cache)
    assert cached == summarize(PAIRS, answers, settings)
    assert len(cache) == len(answers)  # one entry per (question, mode, answer count)
    quick = summarize(PAIRS, answers, settings, with_agreement=False)  # for the runs list
    assert [q.verdict for q in quick.questions] == [q.verdict for q in cached.questions]
    assert all(q.closed and math.isnan(q.closed.agreement) for q in quick.questions)


def test_judge_grades_when_asked_and_its_reply_is_readable() -> None:
    calls: list[str] = []

    def ask(messages: Sequence[ChatMessage], options: SamplingSettings) -> ChatReply:
        text = messages[-1].content
        calls.append(text)
        if "CORRECT" in messages[0].content + text:  # the judge prompt names the labels
            return Reply("Grade: CORRECT" if "opened in 1889" in text else "hmm", (1.0,))
        return Reply("It opened in 1889" if "tower" in text else "Lisbon", (0.5,))

    pairs = [QAPair("When did the tower open?", "March 1889"), QAPair("Capital?", "Osk")]
    settings = QuizSettings(samples=1, open_book=False, judge=True)
    answers = list(interrogate(pairs, ARTICLE, settings, old_style(ask)))
    assert [(a.grade, a.method) for a in answers] == [
        ("CORRECT", "judge"),  # the rules would not give "1889" for "March 1889"
        ("INCORRECT", "overlap"),  # "hmm": unreadable, the rule's grade stays
    ]
    assert len(calls) == 4


@pytest.mark.parametrize(
    "article",
    [
        "word " * 2000 + "the keeper was Marit Vell " + "word " * 500,  # no punctuation at all
        "\n".join(f"item {i}: nets and ropes" for i in range(400)) + "\nkeeper: Marit Vell",
        "。".join(["港口的天气很好"] * 600) + "。灯塔看守人是 Marit Vell。",  # CJK full stops
    ],
)
def test_excerpts_of_any_text_are_never_empty(article: str) -> None:
    from desktop.core.quiz.excerpt import article_excerpt

    excerpt = article_excerpt(article, "Who was the lighthouse keeper, Marit?", 600)
    assert 0 < len(excerpt) <= 600 and "Marit Vell" in excerpt


def test_runs_compared_question_by_question() -> None:
    from desktop.core.quiz.comparison import compare

    settings = QuizSettings(samples=3)
    answers, _ = run_quiz(settings)
    first = summarize(PAIRS, answers, settings)
    # the second run: one question written differently, one new, one left out
    second_pairs = [QAPair("  what is the capital of VELMORA? ", "Osk"), QAPair("New?", "x"),
                    PAIRS[0]]  # fmt: skip
    second = summarize(second_pairs, [], settings)  # not asked yet
    rows = compare([first, second])
    assert [r.question for r in rows] == [*(p.question for p in PAIRS), "New?"]
    assert [r.verdicts() for r in rows] == [
        ("knows", "…"), ("hallucinates", "…"), ("unsure", "–"), ("–", "…")
    ]  # fmt: skip
    assert rows[1].results[1] is not None and rows[1].results[1].index == 0

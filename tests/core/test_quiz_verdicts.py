"""The four verdicts from scripted answers: knows, hallucinates (wrong with confidence, or
the same wrong answer again and again), doesn't know (refuses, or wrong answers that
scatter with low confidence), unsure; and what the charts and the training set make of
them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.chat.generation import GenerationStats, TokenEvent
from desktop.core.quiz.interrogation import interrogate
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.results import VERDICTS, QuizSummary, summarize
from desktop.core.quiz.settings import QuizSettings
from desktop.core.quiz.sft_export import sft_examples

# (closed-book answers as (text, token probability), expected verdict); reference "Port Sorrel"
CASES: list[tuple[str, Sequence[tuple[str, float]], str]] = [
    ("right every time", [("Port Sorrel", 0.9)] * 3, "knows"),
    ("right twice: sometimes right is not knowing",
     [("Port Sorrel", 0.9), ("Kessarin", 0.6), ("Port Sorrel", 0.8)], "unsure"),
    ("wrong, and sure of it", [("Florida", 0.8), ("Tampa", 0.7), ("Miami", 0.9)],
     "hallucinates"),
    ("the same wrong answer again and again, unsure or not",
     [("Florida", 0.3), ("Florida.", 0.3), ("Florida", 0.2)], "hallucinates"),
    ("wrong answers that scatter, said with low confidence",
     [("Tampa", 0.3), ("Osk", 0.2), ("the north", 0.4)], "doesn't know"),
    ("refuses", [("I don't know.", 0.9)] * 3, "doesn't know"),
    ("refuses twice, one confident guess", [("I don't know.", 0.9), ("I'm not sure.", 0.8),
                                             ("Florida", 0.95)], "doesn't know"),
    ("one refusal, two confident wrong answers",
     [("I don't know.", 0.9), ("Tampa", 0.8), ("Miami", 0.7)], "hallucinates"),
    ("right once, otherwise made up with confidence",
     [("Port Sorrel", 0.9), ("Tampa", 0.8), ("Miami", 0.7)], "hallucinates"),
]  # fmt: skip


def scripted(replies: dict[str, Sequence[tuple[str, float]]]):  # type: ignore[no-untyped-def]
    turns: dict[str, int] = {}

    def ask(request: ChatRequest) -> ChatReply:
        question = request.messages[-1].content
        key = next(k for k in replies if k in question)
        n = turns.get(key, 0)
        turns[key] = n + 1
        text, prob = replies[key][n % len(replies[key])]
        stats = GenerationStats(0, 0, 1, 0.0, 0.0, "eos", text)
        return ChatReply(text, stats, None, (TokenEvent(text, 0, prob),))

    return ask


def run(settings: QuizSettings, with_agreement: bool = True) -> QuizSummary:
    pairs = [QAPair(f"Case {i}: what is the capital of Velmora?", "Port Sorrel")
             for i in range(len(CASES))]  # fmt: skip
    ask = scripted({f"Case {i}:": answers for i, (_, answers, _) in enumerate(CASES)})
    answers = list(interrogate(pairs, "", settings, ask))
    return summarize(pairs, answers, settings, with_agreement=with_agreement)


@pytest.mark.parametrize("with_agreement", [True, False])
def test_four_verdicts_from_scripted_answers(with_agreement: bool) -> None:
    # the runs list summarises without agreement: its verdicts must be the same
    summary = run(QuizSettings(samples=3, open_book=False), with_agreement)
    got = {case: q.verdict for (case, _, _), q in zip(CASES, summary.questions, strict=True)}
    assert got == {case: verdict for case, _, verdict in CASES}
    assert summary.verdicts == {v: sum(e == v for _, _, e in CASES) for v in VERDICTS}


def test_the_confidence_that_makes_a_wrong_answer_a_hallucination_is_a_setting() -> None:
    confident = QuizSettings(samples=3, open_book=False)
    strict = QuizSettings(samples=3, open_book=False, confident_at=0.95)
    index = next(i for i, (c, _, _) in enumerate(CASES) if c == "wrong, and sure of it")
    assert run(confident).questions[index].verdict == "hallucinates"
    assert run(strict).questions[index].verdict == "doesn't know"
    assert QuizSettings(confident_at=1.5).problems()


def test_the_training_set_refuses_where_the_model_hallucinates_or_does_not_know() -> None:
    settings = QuizSettings(samples=3, open_book=False, refusal="I don't know.")
    examples = sft_examples(run(settings).questions, settings, unsure_refuses=False)
    replies = [e["messages"][1]["content"] for e in examples]
    expected = [v for _, _, v in CASES if v != "unsure"]
    assert replies == ["Port Sorrel" if v == "knows" else "I don't know." for v in expected]
    assert expected.count("hallucinates") == 4 and expected.count("doesn't know") == 3

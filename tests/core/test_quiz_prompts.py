"""How the quiz asks: a base model gets the article's sentence to continue (or a neutral
question list), an instruct model a chat question; no prompt teaches refusing unless "may
say I don't know" is on; every answer carries the exact prompt it got."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.chat.context_fit import ContextFull
from desktop.core.chat.generation import ChatMessage, GenerationStats, TokenEvent
from desktop.core.chat.prompt_builder import TemplateInfo, build_prompt
from desktop.core.models.model_kind import detect_kind
from desktop.core.quiz.articles import bundled_articles
from desktop.core.quiz.cloze import cloze_pairs
from desktop.core.quiz.interrogation import continuation_answer, interrogate
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.quiz_prompts import (
    QA_EXAMPLES,
    QuizRequest,
    prompt_form,
    quiz_messages,
    request_stops,
    resolve_kind,
)
from desktop.core.quiz.settings import QuizSettings

TEMPLATE = TemplateInfo(chat_template="{{ messages }}", eos_token="</s>")
NONE = TemplateInfo()
APOLLO = QAPair(
    "About Apollo 11, fill in the blank: …", "16 July 1969", "rules",
    stem="Apollo 11 was launched from Kennedy Space Center in Florida on",
)  # fmt: skip
TYPED = QAPair("Who was the commander of Apollo 11?", "Neil Armstrong", "manual")
ARTICLE = "Apollo 11 was launched on 16 July 1969. Neil Armstrong was its commander."
REFUSALS = ("don't know", "do not know", "not sure", "no idea")


def prompt_text(pair: QAPair, form: str, may_refuse: bool, article: str | None) -> str:
    """The text the model reads, built as the engine builds it."""
    messages, mode, _ = quiz_messages(pair, form, may_refuse, article)  # type: ignore[arg-type]
    return build_prompt(messages, TEMPLATE, mode, render=lambda *a, **k: str(a[1])).text


@pytest.mark.parametrize(
    ("template", "names", "kind"),
    [
        (NONE, ["gemma-3-270m-q4_k_m", "Gemma 3 270m"], "base"),  # no template
        (NONE, ["gemma-3-270m-it-Q4_K_M", "Gemma 3 270m It"], "instruct"),  # "-it"
        (NONE, ["SmolLM2-135M-Instruct-Q8_0"], "instruct"),
        (TEMPLATE, ["qwen2.5-0.5b-instruct-q4_k_m"], "instruct"),
        (TEMPLATE, ["Qwen2.5-0.5B-Q8_0", "Qwen2.5 0.5B"], "instruct"),  # the template says
        # base models' GGUFs often carry a chat template they were never trained on
        (TEMPLATE, ["qwen2.5-0.5b-base-q8_0"], "base"),
        (TEMPLATE, ["gemma-3-1b-pt"], "base"),
        (NONE, ["tiny-bit-model"], "base"),  # "bit" is not "it"
    ],
)
def test_base_or_instruct_is_read_from_the_model(
    template: TemplateInfo, names: list[str], kind: str
) -> None:
    assert detect_kind(template, names)[0] == kind
    other = "base" if kind == "instruct" else "instruct"
    assert resolve_kind(other, template, names) == other  # the person's choice wins
    assert resolve_kind("auto", template, names) == kind


def test_detection_says_why() -> None:
    assert detect_kind(NONE, ["gemma-3-270m"]) == ("base", "it has no chat template")
    assert detect_kind(TEMPLATE, ["x-chat"]) == ("instruct", "its name says “chat”")


def test_a_base_model_continues_the_articles_sentence() -> None:
    assert prompt_form(APOLLO, "base", may_refuse=False) == "continuation"
    _, mode, stops = quiz_messages(APOLLO, "continuation", False, None)
    assert (mode, stops) == ("raw", ("\n",))  # the answer is the rest of the line
    assert prompt_text(APOLLO, "continuation", False, None) == APOLLO.stem
    # open book: the article, then the sentence to continue (its title line would repeat
    # what the article says first)
    titled = QAPair("q", "Neil Armstrong", "rules", "Apollo 11\n\nThe commander was")
    assert prompt_text(titled, "continuation", False, None) == "Apollo 11\n\nThe commander was"
    assert prompt_text(titled, "continuation", False, ARTICLE) == f"{ARTICLE}\n\nThe commander was"


def test_a_base_model_without_a_stem_gets_a_question_list_without_refusals() -> None:
    assert prompt_form(TYPED, "base", may_refuse=False) == "question list"
    text = prompt_text(TYPED, "question list", False, None)
    shots = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in QA_EXAMPLES)
    assert text == f"{shots}Question: {TYPED.question}\nAnswer:"
    assert not any(r in text.casefold() for r in REFUSALS)
    opened = prompt_text(TYPED, "question list", False, ARTICLE)
    assert opened == f"{ARTICLE}\n\n{text}"  # the article first: one prompt cache prefix


def test_refusals_are_offered_only_when_allowed() -> None:
    for pair in (APOLLO, TYPED):
        # a continuation has no place for "I don't know": a question list has
        assert prompt_form(pair, "base", may_refuse=True) == "question list"
        text = prompt_text(pair, "question list", True, None)
        assert "Answer: I don't know\n\nQuestion: " in text
        assert text.endswith(f"Question: {pair.question}\nAnswer:")
    chat_off = quiz_messages(TYPED, "chat", False, None)[0]
    chat_on = quiz_messages(TYPED, "chat", True, None)[0]
    assert not any(r in chat_off[0].content.casefold() for r in REFUSALS)
    assert 'say "I don\'t know"' in chat_on[0].content


def test_an_instruct_model_is_asked_the_question_in_a_chat() -> None:
    assert prompt_form(APOLLO, "instruct", may_refuse=False) == "chat"  # stem or not
    messages, mode, stops = quiz_messages(TYPED, "chat", False, None)
    assert (mode, stops) == ("template", ())
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[1].content == TYPED.question
    opened = quiz_messages(TYPED, "chat", False, ARTICLE)[0][1].content
    assert ARTICLE in opened and opened.endswith(f"Question: {TYPED.question}")


def test_a_continuation_answers_with_its_first_sentence() -> None:
    assert continuation_answer(" 16 July 1969. It was the first crewed landing.") == (
        "16 July 1969."
    )
    assert continuation_answer(" Dr. Teodora Lindqvist, a marine biologist.") == (
        "Dr. Teodora Lindqvist, a marine biologist."
    )
    assert continuation_answer(" 3.5 hours later\nmore") == "3.5 hours later"
    assert continuation_answer(" Paris, France<start_of_image>The tower") == "Paris, France"


class Script:
    """Replies by what the prompt ends with; records every request."""

    def __init__(self, replies: dict[str, Sequence[tuple[str, float]]]) -> None:
        self.replies = replies
        self.requests: list[ChatRequest] = []

    def __call__(self, request: ChatRequest) -> ChatReply:
        self.requests.append(request)
        text = "".join(m.content for m in request.messages if m.role != "system")
        for end, tokens in self.replies.items():
            if text.endswith(end):
                events = tuple(TokenEvent(t, i, p) for i, (t, p) in enumerate(tokens))
                reply = "".join(t for t, _ in tokens)
                stats = GenerationStats(0, 0, len(tokens), 0.0, 0.0, "eos", reply)
                return ChatReply(reply, stats, None, events)
        raise AssertionError(f"unexpected prompt {text!r}")


def test_every_answer_carries_the_exact_prompt_it_got() -> None:
    ask = Script({APOLLO.stem: [(" 16 July", 0.9), (" 1969.", 0.7), (" It was", 0.2)]})
    settings = QuizSettings(samples=2, asked_as="base")
    answers = list(interrogate([APOLLO], ARTICLE, settings, ask))
    assert [(a.mode, a.text, a.grade) for a in answers] == [
        ("closed", "16 July 1969.", "CORRECT"), ("closed", "16 July 1969.", "CORRECT"),
        ("open", "16 July 1969.", "CORRECT"), ("open", "16 July 1969.", "CORRECT"),
    ]  # fmt: skip
    assert answers[0].confidence == pytest.approx(0.8)  # the answer's tokens, not " It was"
    closed, opened = answers[0].prompt, answers[2].prompt
    assert closed is not None and opened is not None
    assert (closed.text, closed.stops, closed.form) == (APOLLO.stem, ("\n",), "continuation")
    assert opened.text == f"{ARTICLE}\n\n{APOLLO.stem}" and opened.article_share == 1.0
    assert all(isinstance(r, QuizRequest) and request_stops(r) == ("\n",) for r in ask.requests)
    assert [r.sampling.temperature for r in ask.requests] == [settings.temperature] * 4


def test_runs_from_before_prompts_were_recorded_still_chat() -> None:
    ask = Script({TYPED.question: [("Neil Armstrong", 0.9)]})
    (answer,) = interrogate([TYPED], ARTICLE, QuizSettings(samples=1, open_book=False), ask)
    assert answer.prompt is not None and answer.prompt.form == "chat"
    assert ask.requests[0].mode == "template"
    assert answer.prompt.text.startswith("[system]\nAnswer the question")  # labelled messages


def test_the_excerpt_an_open_book_prompt_held_is_recorded() -> None:
    article = "\n\n".join([f"Filler paragraph {i} about ships and tides." for i in range(30)]
                          + ["Apollo 11 was launched from Kennedy Space Center in Florida on "
                             "16 July 1969."])  # fmt: skip

    def ask(request: ChatRequest) -> ChatReply:
        text = request.messages[-1].content
        if len(text) > 400:
            raise ContextFull(len(text), 400, 400, "too long")
        reply = " 16 July 1969." if "16 July 1969" in text else " 1970."
        return ChatReply(reply, GenerationStats(0, 0, 1, 0.0, 0.0, "eos", reply), None)

    settings = QuizSettings(samples=1, asked_as="base")
    closed, opened = interrogate([APOLLO], article, settings, ask)
    assert closed.grade == "INCORRECT" and opened.grade == "CORRECT"
    assert opened.prompt is not None and "16 July 1969" in opened.prompt.text
    assert 0 < opened.article_share == opened.prompt.article_share < 0.3


def test_rule_questions_about_a_bundled_article_carry_stems() -> None:
    apollo = next(a for a in bundled_articles() if a.title == "Apollo 11")
    pairs = cloze_pairs(apollo.text, limit=8, topic=apollo.title)
    launch = next(p for p in pairs if p.answer == "16 July 1969")
    assert launch.stem == "Apollo 11 was launched from Kennedy Space Center in Florida on"
    assert sum(bool(p.stem) for p in pairs) >= 5
    for pair in pairs:  # a stem never gives its answer away
        assert pair.answer.casefold() not in pair.stem.casefold()


def test_no_prompt_of_a_default_run_teaches_refusing() -> None:
    apollo = next(a for a in bundled_articles() if a.title == "Apollo 11")
    pairs = cloze_pairs(apollo.text, limit=8, topic=apollo.title)
    for kind in ("base", "instruct"):
        ask = Script({"": [("1969", 0.5)]})
        list(interrogate(pairs, apollo.text, QuizSettings(samples=1, asked_as=kind), ask))
        for request in ask.requests:
            text = " ".join(m.content for m in request.messages).casefold()
            # the article itself says nobody "could yet rule out germs": not a refusal
            assert not any(r in text for r in REFUSALS), text[-200:]


def test_the_chat_request_vocabulary_still_fits() -> None:
    request = QuizRequest((ChatMessage("user", "x"),), stops=("\n",))
    assert isinstance(request, ChatRequest) and request.overflow == "drop oldest"
    assert request_stops(ChatRequest((ChatMessage("user", "x"),))) == ()

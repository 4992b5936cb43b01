"""A conversation that outgrows the context: the reply is capped to what is left, and the
overflow policy drops the oldest turns, turns from the middle, or stops with a sentence."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from desktop.core.chat.context_fit import ContextFull, fit_to_context, turns
from desktop.core.chat.generation import ChatMessage
from desktop.core.chat.prompt_builder import PromptPlan, TemplateInfo, build_prompt

TEMPLATE = TemplateInfo("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}")


def words(text: str) -> int:
    """A tokenizer that counts words: easy to reason about in a test."""
    return len(text.split())


def build(mode: str = "template"):
    def make(messages: Sequence[ChatMessage]) -> PromptPlan:
        return build_prompt(messages, TEMPLATE, mode)  # type: ignore[arg-type]

    return make


def conversation(turn_count: int) -> list[ChatMessage]:
    messages = [ChatMessage("system", "be kind")]
    for n in range(turn_count):
        messages += [ChatMessage("user", f"question {n} " + "w " * 8),
                     ChatMessage("assistant", f"answer {n} " + "w " * 8)]  # fmt: skip
    return [*messages, ChatMessage("user", "last question")]


def test_a_prompt_that_fits_caps_the_reply_to_what_is_left() -> None:
    fitted = fit_to_context(conversation(1), build(), words, 200, max_tokens=512)
    assert fitted.dropped == 0 and fitted.note == ""
    assert fitted.prompt_tokens == words(fitted.plan.text)
    assert fitted.max_tokens == 200 - fitted.prompt_tokens  # 512 would overrun the context


def test_drop_oldest_keeps_the_system_prompt_and_the_latest_turns() -> None:
    messages = conversation(10)
    fitted = fit_to_context(messages, build(), words, 120, max_tokens=32)
    text = fitted.plan.text
    assert "[system] be kind" in text and "last question" in text
    assert "question 0" not in text and "question 9" in text
    assert fitted.prompt_tokens + 32 <= 120 < words(build()(messages).text)
    assert fitted.dropped > 0 and "left out from the start" in fitted.note
    # the fewest turns were dropped: one more turn would not fit
    assert fitted.dropped % 2 == 0  # whole turns: a question with its answer


def test_truncate_middle_keeps_the_first_exchange() -> None:
    fitted = fit_to_context(conversation(10), build(), words, 120, 32, "truncate middle")
    assert "question 0" in fitted.plan.text and "answer 0" in fitted.plan.text
    assert "question 1 " not in fitted.plan.text and "last question" in fitted.plan.text
    assert "from the middle" in fitted.note


def test_stop_says_the_figures_and_the_remedies() -> None:
    with pytest.raises(ContextFull) as caught:
        fit_to_context(conversation(10), build(), words, 120, 32, "stop")
    message = str(caught.value)
    assert "no longer fits the model's context of 120" in message
    assert "Start a new chat" in message and "larger context" in message
    assert caught.value.limit == 120 - 32


def test_a_message_too_long_by_itself_is_said_plainly() -> None:
    huge = [ChatMessage("user", "w " * 500)]
    with pytest.raises(ContextFull, match="Shorten the message or load the model"):
        fit_to_context(huge, build(), words, 100, 32)


def test_raw_text_keeps_the_end_of_the_document() -> None:
    document = " ".join(f"w{i}" for i in range(300))
    fitted = fit_to_context([ChatMessage("user", document)], build("raw"), words, 100, 32)
    assert fitted.plan.text.endswith("w299") and fitted.prompt_tokens <= 68
    assert "first" in fitted.note and "characters" in fitted.note


def test_turns_group_each_question_with_its_answers() -> None:
    system, groups = turns(conversation(2))
    assert [m.content for m in system] == ["be kind"]
    assert [[m.role for m in g] for g in groups] == [["user", "assistant"]] * 2 + [["user"]]

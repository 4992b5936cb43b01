"""One chat request through the host: the prompt built in the asked mode, the template
rendered in its limited process, fitted to the context the model really has (counted by
its own tokenizer), the reply capped to what is left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.context_fit import ContextFull
from desktop.core.chat.generation import ChatMessage, LoadSettings, SamplingSettings
from desktop.engine.chat_turn import ask, fit_prompt
from desktop.engine.scripted_backend import pieces

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
FOREVER = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"


def session_with(scripted_session: Any, path: Path, **script: Any) -> Any:
    session = scripted_session(**script)
    session.load(str(path), LoadSettings(context_size=script.get("context_size", 2048)))
    return session


def chat(turns: int) -> tuple[ChatMessage, ...]:
    messages = []
    for n in range(turns):
        messages += [ChatMessage("user", f"question {n} " + "w " * 20),
                     ChatMessage("assistant", f"answer {n} " + "w " * 20)]  # fmt: skip
    return (*messages, ChatMessage("user", "the last question"))


def test_the_reply_is_capped_to_the_room_the_prompt_leaves(scripted_session, tiny_gguf) -> None:
    session = session_with(scripted_session, tiny_gguf, context_size=300, chat_template=CHATML,
                           replies=[" ".join(["x"] * 400)])  # fmt: skip
    request = ChatRequest(chat(2), SamplingSettings(max_tokens=512))
    reply = ask(session, request)
    fitted = reply.prompt
    assert fitted is not None and fitted.dropped == 0
    assert fitted.prompt_tokens == 1 + len(pieces(fitted.plan.text))  # BOS + the words
    assert fitted.max_tokens == 300 - fitted.prompt_tokens
    assert reply.stats.generated_tokens == fitted.max_tokens  # never past the context
    assert reply.stats.prompt_tokens == fitted.prompt_tokens  # the counter agrees


def test_a_long_chat_drops_its_oldest_turns_and_says_so(scripted_session, tiny_gguf) -> None:
    session = session_with(scripted_session, tiny_gguf, context_size=300, chat_template=CHATML)
    fitted = fit_prompt(session, ChatRequest(chat(12), SamplingSettings(max_tokens=64)))
    assert "question 0 " not in fitted.plan.text and "the last question" in fitted.plan.text
    assert fitted.prompt_tokens + 64 <= 300
    assert "left out from the start of the conversation" in fitted.note


def test_the_stop_policy_refuses_with_the_figures(scripted_session, tiny_gguf) -> None:
    session = session_with(scripted_session, tiny_gguf, context_size=300, chat_template=CHATML)
    request = ChatRequest(chat(12), SamplingSettings(max_tokens=64), overflow="stop")
    with pytest.raises(ContextFull, match="no longer fits the model's context of 300"):
        fit_prompt(session, request)


def test_a_small_context_sheds_the_base_prompts_examples_first(
    scripted_session, tiny_base_gguf
) -> None:
    session = session_with(scripted_session, tiny_base_gguf, context_size=160)
    fitted = fit_prompt(session, ChatRequest((ChatMessage("user", "hello"),)))
    assert fitted.plan.mode == "base" and "User: hello\nAssistant:" in fitted.plan.text
    assert "of the 3 example exchanges left out" in fitted.note
    assert "Why do cats purr?" in fitted.plan.text  # the first example stays longest
    assert fitted.prompt_tokens + 64 <= 160


def test_raw_text_is_sent_as_written(scripted_session, tiny_gguf) -> None:
    session = session_with(scripted_session, tiny_gguf, chat_template=CHATML, replies=[" Paris."])
    request = ChatRequest((ChatMessage("user", "The capital of France is"),), mode="raw")
    reply = ask(session, request)
    assert reply.prompt is not None and reply.prompt.plan.text == "The capital of France is"
    assert reply.text == " Paris."


def test_a_template_that_never_ends_falls_back_with_a_sentence_in_seconds(
    scripted_session, tiny_gguf
) -> None:
    session = session_with(scripted_session, tiny_gguf, chat_template=FOREVER, replies=["ok"])
    reply = ask(session, ChatRequest((ChatMessage("user", "hi"),)))
    assert reply.prompt is not None and reply.prompt.plan.mode == "base"
    assert "took longer than 2 s" in reply.prompt.plan.note and reply.text == "ok"

"""Prompt building in its three modes (raw text, base model as assistant, chat template),
and reasoning handling."""

from __future__ import annotations

import pytest

from desktop.core.chat.base_prompt import (
    BASE_STOPS,
    DEFAULT_IDENTITY,
    DEFAULT_STYLE,
    BasePromptStyle,
    build_base_prompt,
)
from desktop.core.chat.chat_template import ChatTemplateError, render_chat_template
from desktop.core.chat.generation import ChatMessage
from desktop.core.chat.prompt_builder import TemplateInfo, build_prompt
from desktop.core.chat.reasoning import split_reasoning
from desktop.core.models.gguf_writer import CHATML_TEMPLATE
from tests.llama_child import in_child

CHAT = [
    ChatMessage("system", "Be brief."),
    ChatMessage("user", "Hi"),
    ChatMessage("assistant", "<think>greet back</think>Hello!"),
    ChatMessage("user", "2+2?"),
]
CHATML = TemplateInfo(CHATML_TEMPLATE, "<|endoftext|>", "<|im_end|>")


def test_chat_template_prompt_and_stop() -> None:
    plan = build_prompt(CHAT, CHATML)
    assert plan.mode == "template" and plan.label == "chat template"
    assert plan.text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )  # the earlier reply went back without its reasoning
    assert plan.stops == ("<|im_end|>",)


def llama_cpp_python_renders(template: str, messages: list[dict[str, str]]) -> str:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    theirs = Jinja2ChatFormatter(template, eos_token="<|im_end|>", bos_token="")
    return str(theirs(messages=messages).prompt)


def test_render_matches_llama_cpps_own_formatter() -> None:
    messages = [{"role": m.role, "content": m.content} for m in CHAT]
    ours = render_chat_template(CHATML_TEMPLATE, CHAT, eos_token="<|im_end|>")
    assert ours == in_child(llama_cpp_python_renders, CHATML_TEMPLATE, messages)


def test_base_mode_transcript() -> None:
    plan = build_prompt(CHAT, CHATML, "base")
    assert plan.mode == "base" and plan.stops == BASE_STOPS
    assert plan.text.startswith("Be brief.\n\nUser: ")  # the system prompt is the identity
    assert plan.text.endswith("User: Hi\nAssistant: Hello!\n\nUser: 2+2?\nAssistant:")


def test_no_template_means_base_mode_with_a_note() -> None:
    plan = build_prompt([ChatMessage("user", "Hi")], TemplateInfo())
    assert plan.mode == "base" and plan.note == ""  # a base model's own mode: nothing to say
    assert plan.text.startswith(DEFAULT_IDENTITY)
    asked = build_prompt([ChatMessage("user", "Hi")], TemplateInfo(), "template")
    assert asked.mode == "base" and "no chat template" in asked.note


def test_broken_template_falls_back_and_says_why() -> None:
    plan = build_prompt([ChatMessage("user", "Hi")], TemplateInfo("{% for x in %}"))
    assert plan.mode == "base" and "does not compile" in plan.note


def test_template_that_raises_is_a_clear_error() -> None:
    template = "{{ raise_exception('only user and assistant roles are supported') }}"
    with pytest.raises(ChatTemplateError, match="only user and assistant"):
        render_chat_template(template, [ChatMessage("user", "x")])


def test_template_sandbox_blocks_python_internals() -> None:
    evil = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(ChatTemplateError):
        render_chat_template(evil, [ChatMessage("user", "x")])


def test_base_prompt_examples_come_before_the_conversation() -> None:
    style = BasePromptStyle(DEFAULT_IDENTITY, (("a?", "b."),))
    text = build_base_prompt([ChatMessage("user", "Q?")], style)
    assert text == f"{DEFAULT_IDENTITY}\n\nUser: a?\nAssistant: b.\n\nUser: Q?\nAssistant:"


def test_raw_text_is_sent_verbatim_and_never_stops_at_a_user_line() -> None:
    text = "The Eiffel Tower is located in the city of"
    plan = build_prompt([ChatMessage("system", "ignored"), ChatMessage("user", text)], CHATML,
                        "raw")  # fmt: skip
    assert plan.text == text and plan.stops == () and plan.mode == "raw"
    # the conversation is one document: the model's continuation, then more of yours
    more = [ChatMessage("user", text), ChatMessage("assistant", " Paris."),
            ChatMessage("user", "It was built in")]  # fmt: skip
    assert build_prompt(more, CHATML, "raw").text == f"{text} Paris. It was built in"


def test_the_built_in_examples_teach_no_refusal_and_leave_demo_questions_alone() -> None:
    """A refusal example made a real base model refuse "Who wrote Romeo and Juliet?" 5 times
    in 7; a capital-of-France example answered the class's first question for the model."""
    text = build_base_prompt([ChatMessage("user", "x")], DEFAULT_STYLE).lower()
    for taught in ("don't know", "do not know", "no information", "i'm not sure"):
        assert taught not in text
    for demo in ("capital of france", "paris", "romeo", "count to"):
        assert demo not in text
    assert any(len(answer) > 150 for _q, answer in DEFAULT_STYLE.examples)  # long is fine
    assert BasePromptStyle.from_dict(DEFAULT_STYLE.to_dict()) == DEFAULT_STYLE


@pytest.mark.parametrize(
    ("text", "reasoning", "answer", "thinking"),
    [
        ("<think>hmm</think>Four.", "hmm", "Four.", False),
        ("  <think>still going", "still going", "", True),
        ("plain answer", "", "plain answer", False),
        ("opened in the prompt</think>\nAnswer", "opened in the prompt", "Answer", False),
    ],
)
def test_split_reasoning(text: str, reasoning: str, answer: str, thinking: bool) -> None:
    split = split_reasoning(text)
    assert (split.reasoning, split.answer, split.thinking) == (reasoning, answer, thinking)


def test_back_to_back_messages_of_one_role_are_merged() -> None:
    alternating = "{% for m in messages %}{{ m['role'] }}:{{ m['content'] }}|{% endfor %}"
    messages = [
        ChatMessage("system", "S"),
        ChatMessage("user", "a"),
        ChatMessage("user", "b"),
        ChatMessage("assistant", "c"),
    ]
    plan = build_prompt(messages, TemplateInfo(chat_template=alternating))
    assert plan.text == "system:S|user:a\n\nb|assistant:c|"

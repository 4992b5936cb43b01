"""The one place that decides what text is really sent to the model, in three modes:

* **raw text** - the conversation is one document: what you write and what the model
  writes follow each other verbatim, and the model simply continues it (no turns, no
  stop at a user line). What a base model really is: a document completer.
* **base model as assistant** - an identity and a few example exchanges written as a
  transcript, so that the likeliest continuation is the assistant's next turn.
* **chat template** - the model's own template (models trained to chat have one).

The result is shown verbatim in "View prompt" and stored with each reply. Rendering a
template runs code from the model file: callers pass `render`, which in the app is the
time- and memory-limited renderer (desktop/engine/template_renderer.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from desktop.core.chat.base_prompt import (
    BASE_STOPS,
    DEFAULT_STYLE,
    BasePromptStyle,
    build_base_prompt,
)
from desktop.core.chat.chat_template import ChatTemplateError, render_chat_template
from desktop.core.chat.generation import ChatMessage
from desktop.core.chat.reasoning import split_reasoning

PromptMode = Literal["raw", "base", "template"]
MODES: tuple[PromptMode, ...] = ("raw", "base", "template")
MODE_LABELS: dict[PromptMode, str] = {
    "raw": "raw text",
    "base": "base model",
    "template": "chat template",
}
Render = Callable[..., str]  # render_chat_template's signature


@dataclass(frozen=True)
class TemplateInfo:
    """What prompt building needs to know about a model (read from its GGUF header)."""

    chat_template: str | None = None
    bos_token: str = ""
    eos_token: str = ""


@dataclass(frozen=True)
class PromptPlan:
    text: str
    stops: tuple[str, ...]
    mode: PromptMode
    note: str = ""  # why the mode differs from the one asked for, if it does

    @property
    def label(self) -> str:
        return MODE_LABELS[self.mode]


def default_mode(model: TemplateInfo) -> PromptMode:
    """A model with a chat template was trained to chat; one without is a base model."""
    return "template" if model.chat_template else "base"


def without_reasoning(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Earlier replies go back without their `<think>` part, as reasoning models expect."""
    return [
        replace(m, content=split_reasoning(m.content).answer) if m.role == "assistant" else m
        for m in messages
    ]


def merge_same_role(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Join back-to-back messages of one role (left behind by failed replies): many chat
    templates (Mistral, Gemma) refuse a conversation whose roles do not alternate."""
    merged: list[ChatMessage] = []
    for message in messages:
        # Tool turns stay apart: each result answers its own call.
        plain = message.role != "tool" and not message.tool_calls
        if merged and merged[-1].role == message.role and plain and not merged[-1].tool_calls:
            merged[-1] = ChatMessage(message.role, f"{merged[-1].content}\n\n{message.content}")
        else:
            merged.append(message)
    return merged


def raw_text(messages: Sequence[ChatMessage]) -> str:
    """The document so far: every piece of it, verbatim, in order. A piece you add starts
    after a space when the text does not already end in one (the message box trims what
    you type); the model's continuations are joined exactly as written. A system prompt
    has no place in a document and is left out."""
    text = ""
    for message in messages:
        if message.role == "system":
            continue
        piece = message.content
        if message.role == "user" and text and not (text[-1].isspace() or piece[:1].isspace()):
            piece = " " + piece
        text += piece
    return text


def build_prompt(
    messages: Sequence[ChatMessage],
    model: TemplateInfo,
    mode: PromptMode | None = None,
    *,
    render: Render = render_chat_template,
    style: BasePromptStyle = DEFAULT_STYLE,
    tools: Sequence[Mapping[str, Any]] = (),
) -> PromptPlan:
    """The prompt for `messages` in `mode` (the model's own default when None). A template
    that is missing or fails falls back to the base-model prompt, and the note says why.
    `tools` (OpenAI function schemas) go to the template as its `tools` variable."""
    mode = mode or default_mode(model)
    if mode == "raw":
        return PromptPlan(raw_text(messages), (), "raw")
    messages = merge_same_role(without_reasoning(messages))
    note = ""
    if mode == "template":
        if not model.chat_template:
            note = "this model has no chat template, so the base-model prompt was used"
        else:
            try:
                extra = {"tools": list(tools)} if tools else {}
                text = render(
                    model.chat_template,
                    messages,
                    bos_token=model.bos_token,
                    eos_token=model.eos_token,
                    **extra,
                )
                stops = (model.eos_token,) if model.eos_token else ()
                return PromptPlan(text=text, stops=stops, mode="template")
            except ChatTemplateError as exc:
                note = f"{exc}; the base-model prompt was used instead"
    return PromptPlan(build_base_prompt(messages, style), BASE_STOPS, "base", note)

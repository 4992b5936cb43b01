"""The one place that decides what text is really sent to the model.

Chat models get their own chat template; base models (or any model, on request) get the
base-model transcript prompt. The result is shown verbatim in "View prompt".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from desktop.core.base_prompt import BASE_STOPS, build_base_prompt
from desktop.core.chat_template import ChatTemplateError, render_chat_template
from desktop.core.generation import ChatMessage
from desktop.core.reasoning import split_reasoning

PromptMode = Literal["chat template", "base model"]


@dataclass(frozen=True)
class PromptPlan:
    text: str
    stops: tuple[str, ...]
    mode: PromptMode
    note: str = ""


@dataclass(frozen=True)
class TemplateInfo:
    """What prompt building needs to know about a model (read from its GGUF header)."""

    chat_template: str | None = None
    bos_token: str = ""
    eos_token: str = ""


def without_reasoning(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Earlier replies go back without their `<think>` part, as reasoning models expect."""
    return [
        ChatMessage(m.role, split_reasoning(m.content).answer) if m.role == "assistant" else m
        for m in messages
    ]


def merge_same_role(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Join back-to-back messages of one role (left behind by failed replies): many chat
    templates (Mistral, Gemma) refuse a conversation whose roles do not alternate."""
    merged: list[ChatMessage] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(message.role, f"{merged[-1].content}\n\n{message.content}")
        else:
            merged.append(message)
    return merged


def build_prompt(
    messages: Sequence[ChatMessage], model: TemplateInfo, *, base_mode: bool = False
) -> PromptPlan:
    messages = merge_same_role(without_reasoning(messages))
    if not base_mode and model.chat_template:
        try:
            text = render_chat_template(
                model.chat_template,
                messages,
                bos_token=model.bos_token,
                eos_token=model.eos_token,
            )
            stops = (model.eos_token,) if model.eos_token else ()
            return PromptPlan(text=text, stops=stops, mode="chat template")
        except ChatTemplateError as exc:
            note = f"{exc}; using the base-model prompt instead"
            return PromptPlan(build_base_prompt(messages), BASE_STOPS, "base model", note)
    note = "" if base_mode else "this model has no chat template"
    return PromptPlan(build_base_prompt(messages), BASE_STOPS, "base model", note)

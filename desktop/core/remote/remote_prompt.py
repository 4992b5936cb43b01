"""What a remote model is sent, planned like a local model's prompt so that the Chat tab,
"View prompt", the quiz and context fitting treat both alike.

In chat mode the messages themselves are sent (the server applies its own template, which
the app cannot see); the plan's text shows them role by role and carries them along. Raw
text and the base-model prompt are the app's own text, sent to /v1/completions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from desktop.core.chat.base_prompt import DEFAULT_STYLE, BasePromptStyle
from desktop.core.chat.generation import ChatMessage
from desktop.core.chat.prompt_builder import (
    PromptMode,
    PromptPlan,
    TemplateInfo,
    build_prompt,
    merge_same_role,
    without_reasoning,
)
from desktop.core.remote.chunks import messages_text
from desktop.core.remote.errors import host_of

ESTIMATED = "token counts are estimates (the server does not share its tokenizer)"


@dataclass(frozen=True)
class MessagesPlan(PromptPlan):
    """A chat-mode plan for a remote model: the messages sent, as they are sent."""

    messages: tuple[ChatMessage, ...] = ()


def remote_plan(
    messages: Sequence[ChatMessage],
    base_url: str,
    mode: PromptMode | None,
    style: BasePromptStyle = DEFAULT_STYLE,
) -> PromptPlan:
    host = host_of(base_url)
    if (mode or "template") == "template":
        sent = tuple(merge_same_role(without_reasoning(messages)))
        note = f"sent to {host} as messages; the server applies its own chat template; {ESTIMATED}"
        return MessagesPlan(messages_text(sent), (), "template", note, sent)
    plan = build_prompt(messages, TemplateInfo(), mode, style=style)
    sent_as = f"sent to {host} as text (/v1/completions); {ESTIMATED}"
    return replace(plan, note="; ".join(n for n in (plan.note, sent_as) if n))


def plan_messages(plan: PromptPlan) -> tuple[ChatMessage, ...]:
    """The messages a plan sends as messages, or () when it sends text."""
    return plan.messages if isinstance(plan, MessagesPlan) else ()

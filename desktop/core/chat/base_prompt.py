"""Base-model mode: turn a document completer into an assistant with a prompt.

A base model only continues text. Written as the start of a transcript - an identity line
and a few example exchanges - the most likely continuation is the assistant's next turn.
Generation stops where the model starts writing the user's next line.

The examples teach more than the format: a short answer teaches short answers, a refusal
teaches refusing. So the built-in ones avoid the questions a class asks first (capitals,
Shakespeare, counting), include a long answer, and contain no "I don't know" unless the
user adds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.core.chat.generation import ChatMessage

USER_LABEL = "User"
ASSISTANT_LABEL = "Assistant"
DEFAULT_IDENTITY = (
    "The following is a conversation between a curious User and a knowledgeable, friendly "
    "AI Assistant. The Assistant answers accurately and completely; when asked for a story, "
    "a list or an explanation, it writes as much as the request needs."
)
EXAMPLE_EXCHANGES: tuple[tuple[str, str], ...] = (
    (
        "Why do cats purr?",
        "Cats purr by rapidly twitching the muscles of their voice box while they breathe "
        "in and out. They purr when they are content, but also when they are stressed or "
        "hurt: the low vibration seems to calm them, and may even help bones heal.",
    ),
    (
        "Write a haiku about autumn rain.",
        "Cold rain on the roof -\nthe maple lets go its leaves\none red hand at a time.",
    ),
    (
        "Give me three tips for learning to juggle.",
        "1. Start with one ball: throw it from hand to hand in an arc at eye height.\n"
        "2. Add a second ball, and throw it only when the first one peaks.\n"
        "3. Practise over a bed, so that dropped balls do not roll away.",
    ),
)
BASE_STOPS = (f"\n{USER_LABEL}:", f"\n\n{USER_LABEL}:", f"\n{ASSISTANT_LABEL}:")


@dataclass(frozen=True)
class BasePromptStyle:
    """What the base-model prompt says before the conversation: editable, saved as presets."""

    identity: str = DEFAULT_IDENTITY
    examples: tuple[tuple[str, str], ...] = field(default=EXAMPLE_EXCHANGES)

    def to_dict(self) -> dict[str, Any]:
        return {"identity": self.identity, "examples": [list(e) for e in self.examples]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BasePromptStyle:
        examples = tuple(
            (str(e[0]), str(e[1]))
            for e in data.get("examples", EXAMPLE_EXCHANGES)
            if isinstance(e, (list, tuple)) and len(e) == 2
        )
        return cls(str(data.get("identity", DEFAULT_IDENTITY)), examples)


DEFAULT_STYLE = BasePromptStyle()


def stop_rule() -> str:
    """Where a base model's reply ends, in words (shown beside the prompt)."""
    return f"The reply ends where the model starts a new line with “{USER_LABEL}:”."


def build_base_prompt(
    messages: Sequence[ChatMessage], style: BasePromptStyle = DEFAULT_STYLE
) -> str:
    """The transcript prompt; a system message (if any) replaces the identity line."""
    system = [m.content.strip() for m in messages if m.role == "system" and m.content.strip()]
    lines = [system[0] if system else style.identity, ""]
    for question, answer in style.examples:
        lines += [f"{USER_LABEL}: {question}", f"{ASSISTANT_LABEL}: {answer}", ""]
    for message in messages:
        if message.role == "user":
            lines.append(f"{USER_LABEL}: {message.content.strip()}")
        elif message.role == "assistant":
            lines += [f"{ASSISTANT_LABEL}: {message.content.strip()}", ""]
    return "\n".join(lines) + f"\n{ASSISTANT_LABEL}:"

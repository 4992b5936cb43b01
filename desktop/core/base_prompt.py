"""Base-model mode: turn a document completer into an assistant with a prompt.

A base model only continues text. Written as the start of a transcript - an identity line
and a few example exchanges - the most likely continuation is the assistant's next turn.
Generation stops where the model starts writing the user's next line.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop.core.generation import ChatMessage

USER_LABEL = "User"
ASSISTANT_LABEL = "Assistant"
DEFAULT_IDENTITY = (
    "The following is a conversation between a curious User and a helpful, honest AI "
    "Assistant. The Assistant answers briefly and says so when it does not know."
)
EXAMPLE_EXCHANGES: tuple[tuple[str, str], ...] = (
    ("What is the capital of France?", "The capital of France is Paris."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    (
        "Who won the 2087 world chess championship?",
        "I don't know - that is in the future, so I have no information about it.",
    ),
)
BASE_STOPS = (f"\n{USER_LABEL}:", f"\n\n{USER_LABEL}:", f"\n{ASSISTANT_LABEL}:")


def build_base_prompt(
    messages: Sequence[ChatMessage],
    *,
    examples: Sequence[tuple[str, str]] = EXAMPLE_EXCHANGES,
) -> str:
    """The transcript prompt; the system message (if any) replaces the identity line."""
    system = [m.content.strip() for m in messages if m.role == "system" and m.content.strip()]
    lines = [system[0] if system else DEFAULT_IDENTITY, ""]
    for question, answer in examples:
        lines += [f"{USER_LABEL}: {question}", f"{ASSISTANT_LABEL}: {answer}", ""]
    for message in messages:
        if message.role == "user":
            lines.append(f"{USER_LABEL}: {message.content.strip()}")
        elif message.role == "assistant":
            lines += [f"{ASSISTANT_LABEL}: {message.content.strip()}", ""]
    return "\n".join(lines) + f"\n{ASSISTANT_LABEL}:"

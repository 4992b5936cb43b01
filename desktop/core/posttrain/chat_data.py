"""Conversations to learn from, in OpenAI's chat fine-tuning format: one JSON object per
line, `{"messages": [{"role": "user", "content": "…"}, {"role": "assistant", …}]}`.

That is what the Quiz tab's refusal set, the Chat tab's conversation export and most
published SFT sets are written in. A line that cannot be used is named — its number and
why — and skipped; it never stops the others. As in OpenAI's format, an assistant message
with `"weight": 0` is context only: the model does not learn to say it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROLES = ("system", "user", "assistant")
MAX_LINE_CHARS = 1_000_000  # a conversation this long fits no small model's context
MAX_CONVERSATIONS = 200_000


@dataclass(frozen=True)
class Message:
    role: str
    content: str
    trained: bool = True  # assistant messages only: False for OpenAI's "weight": 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.role == "assistant" and not self.trained:
            out["weight"] = 0
        return out


@dataclass(frozen=True)
class Conversation:
    messages: tuple[Message, ...]
    line: int = 0  # where it was read (1-based); 0 for conversations made in the app

    @property
    def first_user(self) -> str:
        return next((m.content for m in self.messages if m.role == "user"), "")

    def to_dict(self) -> dict[str, Any]:
        return {"messages": [m.to_dict() for m in self.messages]}


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ChatData:
    conversations: tuple[Conversation, ...]
    bad_lines: tuple[BadLine, ...] = ()

    def summary(self) -> str:
        """ "48 conversations; 2 lines skipped (line 3: …; line 9: …)" """
        text = f"{len(self.conversations):,} conversations"
        if self.bad_lines:
            shown = "; ".join(str(b) for b in self.bad_lines[:3])
            more = " …" if len(self.bad_lines) > 3 else ""
            text += f"; {len(self.bad_lines)} lines skipped ({shown}{more})"
        return text


def read_chat_jsonl(path: str | Path) -> ChatData:
    """Read a JSONL file (OSError if it cannot be opened; bad lines are reported)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse_chat_lines(f)


def parse_chat_lines(lines: Iterable[str]) -> ChatData:
    conversations: list[Conversation] = []
    bad: list[BadLine] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(conversations) >= MAX_CONVERSATIONS:
            bad.append(BadLine(number, f"more than {MAX_CONVERSATIONS:,} conversations: "
                               "the rest of the file is left out"))  # fmt: skip
            break
        try:
            conversations.append(parse_conversation(_json_object(line), number))
        except ValueError as exc:
            bad.append(BadLine(number, str(exc)))
    return ChatData(tuple(conversations), tuple(bad))


def parse_conversation(data: Mapping[str, Any], line: int = 0) -> Conversation:
    """ValueError with the reason if `data` is not a usable conversation."""
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError('no "messages" list')
    parsed = tuple(_message(m, n) for n, m in enumerate(messages, 1))
    if not any(m.role == "assistant" and m.trained and m.content.strip() for m in parsed):
        raise ValueError("no assistant message to learn from")
    if parsed[0].role == "assistant":
        raise ValueError("the conversation starts with the assistant (nothing to answer)")
    return Conversation(parsed, line)


def conversation(pairs: Sequence[tuple[str, str]], system: str = "") -> Conversation:
    """A conversation from (user, assistant) turns, made in the app."""
    messages = [Message("system", system)] if system else []
    for user, assistant in pairs:
        messages += [Message("user", user), Message("assistant", assistant)]
    return Conversation(tuple(messages))


def to_jsonl(conversations: Iterable[Conversation]) -> str:
    return "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in conversations)


def _json_object(line: str) -> Mapping[str, Any]:
    if len(line) > MAX_LINE_CHARS:
        raise ValueError(f"longer than {MAX_LINE_CHARS:,} characters")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at character {exc.pos + 1})") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _message(data: object, n: int) -> Message:
    if not isinstance(data, dict):
        raise ValueError(f"message {n} is not an object")
    role = data.get("role")
    if role == "tool" or data.get("tool_calls"):
        raise ValueError(f"message {n} is a tool call or result (not learned from yet)")
    if role not in ROLES:
        raise ValueError(f"message {n} has the role {role!r} (known: {', '.join(ROLES)})")
    content = _text(data.get("content"), n)
    weight = data.get("weight", 1)
    if weight not in (0, 1):
        raise ValueError(f"message {n} has the weight {weight!r} (0 or 1)")
    return Message(role, content, trained=weight == 1)


def _text(content: object, n: int) -> str:
    """A string, or OpenAI's list of parts of which only text parts are allowed."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if not (isinstance(part, dict) and part.get("type") == "text"):
                raise ValueError(f"message {n} holds something other than text")
            parts.append(str(part.get("text", "")))
        return "".join(parts)
    raise ValueError(f"message {n} has no text content")

"""What the conversation store keeps: `Conversation` and `StoredMessage`, how a new chat
gets its title, and how both map to and from SQLite rows (JSON columns included).

`ConversationStore` (conversations.py) does the reading and writing; these are plain values
the GUI can hold without a database connection.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Literal

from desktop.core.api.tool_calls import ToolCall
from desktop.core.chat.generation import ChatMessage, Role

MessageStatus = Literal["complete", "partial", "error"]
DEFAULT_TITLE = "New chat"
TITLE_LENGTH = 40


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    system_prompt: str
    model_path: str | None
    created_at: float  # unix seconds
    updated_at: float  # last message change (not renames or settings)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    position: int  # 0-based order inside the conversation
    role: Role
    content: str  # raw model output, <think> blocks included
    status: MessageStatus
    created_at: float
    stats: dict[str, Any] | None = None
    token_probs: list[Any] | None = None
    # An assistant reply that called tools: {"calls": [{id, name, arguments}], "content":
    # the text around the calls, "format"}; a "tool" message: ToolOutcome.stored()
    tool: dict[str, Any] | None = None

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        calls = [c for c in (self.tool or {}).get("calls") or [] if isinstance(c, dict)]
        return tuple(
            ToolCall(str(c.get("name", "")), str(c.get("arguments", "{}")), str(c.get("id", "")))
            for c in calls
        )

    @property
    def shown_text(self) -> str:
        """The reply as the transcript shows it: without the calls (they have their own
        cards), which `content` keeps as the model wrote them."""
        if self.tool and self.role == "assistant" and "content" in self.tool:
            return str(self.tool["content"])
        return self.content

    def to_chat_message(self) -> ChatMessage:
        if self.role == "tool":
            tool = self.tool or {}
            return ChatMessage("tool", self.content, tool_call_id=str(tool.get("call_id", "")),
                               name=str(tool.get("name", "")))  # fmt: skip
        if self.tool_calls:
            return ChatMessage(self.role, self.shown_text, tool_calls=self.tool_calls)
        return ChatMessage(self.role, self.content)


def title_from_first_message(text: str, max_chars: int = TITLE_LENGTH) -> str:
    """A sidebar title: the first non-blank line, cut at a word boundary, at most max_chars."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    first = next((line for line in lines if line), "")
    if not first:
        return DEFAULT_TITLE
    if len(first) <= max_chars:
        return first
    cut = first[: max_chars - 1]  # room for the ellipsis
    space = cut.rfind(" ")
    if space > max_chars // 2:  # only back up to a word boundary if little is lost
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


# --- rows ---------------------------------------------------------------------------------


def conversation_from_row(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        title=row["title"],
        system_prompt=row["system_prompt"],
        model_path=row["model_path"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        settings=json.loads(row["settings_json"]),
    )


def message_from_row(row: sqlite3.Row) -> StoredMessage:
    stats, probs = row["stats_json"], row["token_probs_json"]
    tool = row["tool_json"]
    return StoredMessage(
        id=row["id"],
        conversation_id=row["conversation_id"],
        position=row["position"],
        role=row["role"],
        content=row["content"],
        status=row["status"],
        created_at=row["created_at"],
        stats=json.loads(stats) if stats is not None else None,
        token_probs=json.loads(probs) if probs is not None else None,
        tool=json.loads(tool) if tool is not None else None,
    )


def json_column(value: object) -> str | None:
    """A value for a *_json column: None stays NULL."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=_dataclass_to_dict)


def _dataclass_to_dict(obj: object) -> object:
    # Lets callers pass TokenEvent objects straight from the engine.
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"cannot store {type(obj).__name__} as JSON")

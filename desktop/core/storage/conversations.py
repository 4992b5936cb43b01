"""Chat conversations in SQLite, written so that a crash never loses a conversation.

The store opens the app database with `database.open_database` (WAL mode,
`synchronous=FULL`, tables created by its migrations) and commits every public write before
the call returns: the user's message is on disk before the model is asked, and a reply that
streams is committed every time `update_reply` is called (~0.5 s), so a killed process loses
at most that last half second of the reply.

One `ConversationStore` owns one connection and is used from the GUI thread only; sqlite3's
default thread check enforces that.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast, get_args

from desktop.core.chat.generation import ChatMessage, GenerationStats, Role, TokenEvent
from desktop.core.chat.presets import PresetStore
from desktop.core.documents.document_store import DocumentStore
from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.storage.conversation_records import (
    DEFAULT_TITLE,
    Conversation,
    MessageStatus,
    StoredMessage,
    conversation_from_row,
    json_column,
    message_from_row,
    title_from_first_message,
)
from desktop.core.storage.database import is_read_only, open_database, transaction
from desktop.core.storage.paths import database_path
from desktop.core.tools.tool_loop import with_missing_results
from desktop.core.tools.tool_results import ToolOutcome

_ROLES: tuple[str, ...] = get_args(Role)
_STATUSES: tuple[str, ...] = get_args(MessageStatus)


class ConversationStore:
    """Conversations, their messages and the system-prompt presets (`.presets`)."""

    def __init__(self, path: str | Path | None = None) -> None:
        """Open (creating and migrating if needed) the database; default: the app's own.

        In a read-only session (`database.use_read_only`) every write raises
        `ReadOnlyDatabase`, whose message is the sentence to show; `read_only` tells the
        tab beforehand, so it can disable what would write.
        """
        self._conn = open_database(path)
        self.read_only = is_read_only(path if path is not None else database_path())
        self.presets = PresetStore(self._conn)
        self.documents = DocumentStore(self._conn)
        self._last_time = 0.0

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # conversations

    def create_conversation(
        self,
        title: str = DEFAULT_TITLE,
        system_prompt: str = "",
        model_path: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Conversation:
        now = self._now()
        cur = self._conn.execute(
            "INSERT INTO conversations (title, system_prompt, model_path, created_at,"
            " updated_at, settings_json) VALUES (?, ?, ?, ?, ?, ?)",
            (title, system_prompt, model_path, now, now, json.dumps(settings or {})),
        )
        return self.get_conversation(cast(int, cur.lastrowid))

    def list_conversations(self) -> list[Conversation]:
        """Most recently updated first."""
        rows = self._conn.execute(
            "SELECT * FROM conversations ORDER BY updated_at DESC, id DESC"
        ).fetchall()
        return [conversation_from_row(row) for row in rows]

    def get_conversation(self, conversation_id: int) -> Conversation:
        """Raises KeyError for an unknown id (as do all methods taking an id)."""
        row = self._conn.execute(
            "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no conversation {conversation_id}")
        return conversation_from_row(row)

    def rename(self, conversation_id: int, title: str) -> None:
        self._set_column(conversation_id, "title", title)

    def set_system_prompt(self, conversation_id: int, text: str) -> None:
        self._set_column(conversation_id, "system_prompt", text)

    def set_model(self, conversation_id: int, path: str | None) -> None:
        self._set_column(conversation_id, "model_path", path)

    def set_settings(self, conversation_id: int, settings: dict[str, Any]) -> None:
        self._set_column(conversation_id, "settings_json", json.dumps(settings))

    def delete_conversation(self, conversation_id: int) -> None:
        """Deletes its messages too (ON DELETE CASCADE)."""
        cur = self._conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        if cur.rowcount == 0:
            raise KeyError(f"no conversation {conversation_id}")

    # messages

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = self._conn.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY position",
            (conversation_id,),
        ).fetchall()
        return [message_from_row(row) for row in rows]

    def add_message(
        self,
        conversation_id: int,
        role: Role,
        content: str,
        status: MessageStatus = "complete",
    ) -> StoredMessage:
        """Append and commit a message; a user message also titles a still-untitled chat."""
        if role not in _ROLES or status not in _STATUSES:
            raise ValueError(f"bad role or status: {role!r}, {status!r}")
        with transaction(self._conn) as conn:
            title = self.get_conversation(conversation_id).title
            now = self._now()
            cur = conn.execute(
                "INSERT INTO messages (conversation_id, position, role, content, status,"
                " created_at) VALUES (?, (SELECT COALESCE(MAX(position) + 1, 0) FROM messages"
                " WHERE conversation_id = ?), ?, ?, ?, ?)",
                (conversation_id, conversation_id, role, content, status, now),
            )
            if role == "user" and title == DEFAULT_TITLE:
                title = title_from_first_message(content)
            conn.execute(
                "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                (title, now, conversation_id),
            )
        return self._get_message(cast(int, cur.lastrowid))

    def start_reply(self, conversation_id: int) -> StoredMessage:
        """An empty assistant message with status 'partial', to be filled while streaming."""
        return self.add_message(conversation_id, "assistant", "", status="partial")

    def update_reply(self, message_id: int, content: str) -> None:
        """Commit the reply so far. Ignored once the reply is finished (late updates)."""
        self._conn.execute(
            "UPDATE messages SET content = ? WHERE id = ? AND status = 'partial'",
            (content, message_id),
        )

    def finish_reply(
        self,
        message_id: int,
        content: str,
        status: Literal["complete", "error"] = "complete",
        stats: GenerationStats | dict[str, Any] | None = None,
        token_probs: Sequence[TokenEvent] | list[Any] | None = None,
        tool: dict[str, Any] | None = None,
    ) -> None:
        """`tool`: the reply's tool calls and the text around them (see StoredMessage)."""
        if status not in ("complete", "error"):
            raise ValueError(f"a finished reply is 'complete' or 'error', not {status!r}")
        if isinstance(stats, GenerationStats):
            stats = dataclasses.asdict(stats)
            stats.pop("text", None)  # the content column already holds it
        self._update_message(
            message_id,
            "content = ?, status = ?, stats_json = ?, token_probs_json = ?, tool_json = ?",
            (content, status, json_column(stats), json_column(token_probs), json_column(tool)),
        )

    def add_tool_result(self, conversation_id: int, outcome: ToolOutcome) -> StoredMessage:
        """A tool call's result, as a "tool" message after the reply that called it:
        `content` is what the model reads back, `tool` what the transcript shows."""
        message = self.add_message(conversation_id, "tool", outcome.text)
        self._update_message(message.id, "tool_json = ?", (json_column(outcome.stored()),))
        return self._get_message(message.id)

    def update_message(self, message_id: int, content: str) -> None:
        """Edit a message's text."""
        self._update_message(message_id, "content = ?", (content,))

    def edit_and_truncate(self, message_id: int, content: str) -> None:
        """Edit-and-resend: new text, later messages gone, in one transaction."""
        with transaction(self._conn) as conn:
            message = self._get_message(message_id)
            conn.execute("UPDATE messages SET content = ? WHERE id = ?", (content, message_id))
            conn.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND position > ?",
                (message.conversation_id, message.position),
            )
            self._touch(message.conversation_id)

    def truncate_after(self, conversation_id: int, position: int) -> int:
        """Delete the messages after `position`; returns how many went."""
        with transaction(self._conn) as conn:
            cur = conn.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND position > ?",
                (conversation_id, position),
            )
            self._touch(conversation_id)
        return cur.rowcount

    # for the model and for export

    def chat_messages(self, conversation_id: int, include_system: bool = True) -> list[ChatMessage]:
        """The history to send to a model: complete messages only, system prompt first;
        a tool call never answered (the app closed meanwhile) gets a "not run" result."""
        conversation = self.get_conversation(conversation_id)
        history = with_missing_results(
            [m.to_chat_message() for m in self.messages(conversation_id) if m.status == "complete"]
        )
        if include_system and conversation.system_prompt.strip():
            history.insert(0, ChatMessage("system", conversation.system_prompt))
        return history

    def to_openai_messages(
        self, conversation_id: int, include_system: bool = True
    ) -> list[dict[str, Any]]:
        """OpenAI's `messages`: tool calls as `tool_calls` (arguments as JSON text), their
        results as `tool` messages with the call's id."""
        return [openai_message(m) for m in self.chat_messages(conversation_id, include_system)]

    def export_jsonl(self, conversation_ids: Iterable[int], path: str | Path) -> int:
        """Write OpenAI fine-tuning JSONL, one conversation per line; returns lines written.

        Partial and error messages are left out; conversations without a complete
        assistant reply teach nothing and are skipped. The file appears whole or not at all.
        """
        lines = []
        for conversation_id in conversation_ids:
            messages = self.to_openai_messages(conversation_id)
            if any(m["role"] == "assistant" for m in messages):
                lines.append(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
        write_text_atomically(Path(path), "".join(lines))
        return len(lines)

    # helpers

    def _now(self) -> float:
        # Strictly increasing, so "most recently updated" is exact even when the clock is
        # coarse (Windows ticks ~16 ms) and two changes land in the same tick.
        self._last_time = max(time.time(), self._last_time + 1e-6)
        return self._last_time

    def _touch(self, conversation_id: int) -> None:
        self._conn.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", (self._now(), conversation_id)
        )

    def _set_column(self, conversation_id: int, column: str, value: object) -> None:
        # `column` comes from this class only, never from user input.
        cur = self._conn.execute(
            f"UPDATE conversations SET {column} = ? WHERE id = ?", (value, conversation_id)
        )
        if cur.rowcount == 0:
            raise KeyError(f"no conversation {conversation_id}")

    def _update_message(
        self, message_id: int, assignments: str, values: tuple[object, ...]
    ) -> None:
        with transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT conversation_id FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise KeyError(f"no message {message_id}")
            conn.execute(f"UPDATE messages SET {assignments} WHERE id = ?", (*values, message_id))
            self._touch(row[0])

    def _get_message(self, message_id: int) -> StoredMessage:
        row = self._conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise KeyError(f"no message {message_id}")
        return message_from_row(row)


def openai_message(message: ChatMessage) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.role == "tool":
        data["tool_call_id"] = message.tool_call_id
    return data

"""System-prompt presets ("identities") kept next to the conversations.

A preset is just a named system prompt. The post-training chapter uses them to show that an
assistant's identity and its willingness to say "I don't know" can come from the prompt alone.
The table is created (and seeded with `DEFAULT_PRESETS`) by a migration in `database.py`;
presets share the database file and the conversation store's connection.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    system_prompt: str


DEFAULT_PRESETS: tuple[Preset, ...] = (
    Preset(
        "Helpful assistant",
        "You are a helpful, honest assistant. Answer clearly and concisely. "
        "If a question is ambiguous, ask a short clarifying question first.",
    ),
    Preset(
        "Deep Dive Lab tutor",
        "You are the Deep Dive Lab tutor. You explain how large language models work - "
        "pretraining data, tokens, training, inference, sampling, post-training and "
        "reinforcement learning - to a curious beginner. Use plain words, short paragraphs "
        "and one concrete example or analogy per idea. Say which parts are simplified.",
    ),
    Preset(
        "Says I don't know",
        "You are a careful assistant. Answer only when you are sure the answer is correct. "
        "If you are not sure, or the question is about something you cannot know (recent "
        "events, private facts, exact numbers you do not remember), reply exactly: "
        '"I don\'t know." Never guess and never invent names, dates, numbers or sources.',
    ),
)


def seed_presets(conn: sqlite3.Connection) -> None:
    """Insert the default presets; called once, inside the migration that creates the table."""
    now = time.time()
    conn.executemany(
        "INSERT OR IGNORE INTO presets (name, system_prompt, updated_at) VALUES (?, ?, ?)",
        [(p.name, p.system_prompt, now) for p in DEFAULT_PRESETS],
    )


class PresetStore:
    """Presets in the app database. Use `ConversationStore.presets` to get one.

    The connection must be in autocommit mode (as `database.open_database` opens it), so each
    call is its own committed transaction. GUI thread only, like the conversation store.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def list_presets(self) -> list[Preset]:
        rows = self._conn.execute(
            "SELECT name, system_prompt FROM presets ORDER BY name COLLATE NOCASE"
        ).fetchall()
        return [Preset(name, prompt) for name, prompt in rows]

    def get(self, name: str) -> Preset | None:
        row = self._conn.execute(
            "SELECT name, system_prompt FROM presets WHERE name = ?", (name,)
        ).fetchone()
        return Preset(row[0], row[1]) if row else None

    def save(self, name: str, system_prompt: str) -> Preset:
        """Insert a preset, or replace the text of the one with the same name."""
        name = name.strip()
        if not name:
            raise ValueError("a preset needs a name")
        self._conn.execute(
            "INSERT INTO presets (name, system_prompt, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET system_prompt = excluded.system_prompt, "
            "updated_at = excluded.updated_at",
            (name, system_prompt, time.time()),
        )
        return Preset(name, system_prompt)

    def delete(self, name: str) -> bool:
        """Remove a preset; False if there was none by that name."""
        cur = self._conn.execute("DELETE FROM presets WHERE name = ?", (name,))
        return cur.rowcount > 0

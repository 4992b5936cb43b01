"""Preference pairs: two replies to the same prompt and which one a person liked better.

This is the data RLHF learns from (issue 17's reward model reads `PreferenceStore.pairs`):
the Chat tab's side-by-side compare adds a pair with every vote, the Reinforce tab will add
its own, and JSONL moves pairs in and out (`preference_jsonl.py`). A tie is kept as a pair
with `tie` set - chosen is then simply the left reply - so a trainer can skip it or use it
as a 0.5 target.

The table lives in the app's one database (its migration is in `database.py`). GUI thread
only, like the other stores; every write is committed before the call returns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Literal

from desktop.core.chat.generation import ChatMessage
from desktop.core.storage.database import is_read_only, open_database, transaction
from desktop.core.storage.paths import database_path

Vote = Literal["a", "b", "tie"]
SOURCE_COMPARE = "compare"


@dataclass(frozen=True)
class PreferencePair:
    prompt: str  # the user's message both replies answer
    chosen: str
    rejected: str
    tie: bool = False
    chosen_model: str = ""  # the model ids (a GGUF path, or remote:<URL>#<model>)
    rejected_model: str = ""
    source: str = SOURCE_COMPARE  # who made the pair: "compare", "import", "rlhf", …
    # what came before the prompt (system prompt, earlier turns), oldest first
    context: tuple[ChatMessage, ...] = ()
    created_at: float = 0.0
    id: int = 0  # 0 until stored

    def content_key(self) -> tuple[object, ...]:
        """What makes two pairs the same judgement (importing an exported file again adds
        nothing twice): everything but the id, the time and who made it."""
        return (self.prompt, self.chosen, self.rejected, self.tie, self.chosen_model,
                self.rejected_model, self.context)  # fmt: skip


def pair_from_vote(
    vote: Vote,
    messages: Sequence[ChatMessage],
    reply_a: str,
    reply_b: str,
    model_a: str,
    model_b: str,
    source: str = SOURCE_COMPARE,
) -> PreferencePair:
    """The pair a vote on two replies to `messages` makes: the last user message is the
    prompt, everything before it the context."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    if last_user < 0:
        raise ValueError("a preference needs a user message the replies answer")
    prompt, context = messages[last_user].content, tuple(messages[:last_user])
    if vote == "b":
        chosen, rejected, chosen_model, rejected_model = reply_b, reply_a, model_b, model_a
    else:  # "a", or a tie kept in the order shown
        chosen, rejected, chosen_model, rejected_model = reply_a, reply_b, model_a, model_b
    return PreferencePair(prompt, chosen, rejected, vote == "tie", chosen_model,
                          rejected_model, source, context)  # fmt: skip


def context_to_json(context: Iterable[ChatMessage]) -> str:
    return json.dumps([{"role": m.role, "content": m.content} for m in context])


def context_from_json(text: str) -> tuple[ChatMessage, ...]:
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(items, list):
        return ()
    return tuple(
        ChatMessage(item["role"], str(item.get("content", "")))
        for item in items
        if isinstance(item, dict) and item.get("role") in ("system", "user", "assistant")
    )


class PreferenceStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self._conn = open_database(path)
        self.read_only = is_read_only(path if path is not None else database_path())

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PreferenceStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add(self, pair: PreferencePair) -> PreferencePair:
        """Store a pair (now, unless it has its own time); returns it with its id."""
        return self.add_many([pair])[0]

    def add_many(self, pairs: Sequence[PreferencePair]) -> list[PreferencePair]:
        """All of them or none (one transaction)."""
        stored = []
        with transaction(self._conn):
            for pair in pairs:
                when = pair.created_at or time.time()
                cur = self._conn.execute(
                    "INSERT INTO preferences (prompt, context_json, chosen, rejected, tie, "
                    "chosen_model, rejected_model, source, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (pair.prompt, context_to_json(pair.context), pair.chosen, pair.rejected,
                     int(pair.tie), pair.chosen_model, pair.rejected_model, pair.source,
                     when),
                )  # fmt: skip
                stored.append(replace(pair, created_at=when, id=int(cur.lastrowid or 0)))
        return stored

    def pairs(self, source: str | None = None, *, ties: bool = True) -> list[PreferencePair]:
        """Stored pairs, oldest first; only one source's, or without ties, if asked."""
        where, args = [], []
        if source is not None:
            where.append("source = ?")
            args.append(source)
        if not ties:
            where.append("tie = 0")
        sql = "SELECT * FROM preferences"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._conn.execute(sql + " ORDER BY created_at, id", args).fetchall()
        return [
            PreferencePair(
                prompt=row["prompt"],
                chosen=row["chosen"],
                rejected=row["rejected"],
                tie=bool(row["tie"]),
                chosen_model=row["chosen_model"],
                rejected_model=row["rejected_model"],
                source=row["source"],
                context=context_from_json(row["context_json"]),
                created_at=float(row["created_at"]),
                id=int(row["id"]),
            )
            for row in rows
        ]

    def count(self, source: str | None = None) -> int:
        if source is None:
            row = self._conn.execute("SELECT COUNT(*) FROM preferences").fetchone()
        else:
            sql = "SELECT COUNT(*) FROM preferences WHERE source = ?"
            row = self._conn.execute(sql, (source,)).fetchone()
        return int(row[0])

    def delete(self, pair_id: int) -> None:
        self._conn.execute("DELETE FROM preferences WHERE id = ?", (pair_id,))

    def export_jsonl(self, path: str | Path, source: str | None = None) -> int:
        """Write the pairs as JSONL (whole or not at all); returns how many."""
        from desktop.core.storage.preference_jsonl import write_pairs

        pairs = self.pairs(source)
        write_pairs(path, pairs)
        return len(pairs)

    def import_jsonl(self, path: str | Path) -> tuple[int, int]:
        """Read a JSONL file of pairs and store the new ones: (added, already there).
        A file with a bad line raises PreferenceFileError and adds nothing."""
        from desktop.core.storage.preference_jsonl import read_pairs

        incoming = read_pairs(path)
        seen = {pair.content_key() for pair in self.pairs()}
        new: list[PreferencePair] = []
        for pair in incoming:
            if pair.content_key() not in seen:
                seen.add(pair.content_key())
                new.append(pair)
        self.add_many(new)
        return len(new), len(incoming) - len(new)

"""Preference pairs (RLHF's data): a vote makes a pair, the store keeps it across reopening,
JSONL goes out and comes back the same, a bad file imports nothing, and a database from
before the table existed still opens."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop.core.chat.generation import ChatMessage
from desktop.core.storage.database import MIGRATIONS, migrate
from desktop.core.storage.preference_jsonl import PreferenceFileError, read_pairs
from desktop.core.storage.preferences import PreferencePair, PreferenceStore, pair_from_vote

TALK = [
    ChatMessage("system", "Be brief."),
    ChatMessage("user", "Tell me a joke."),
    ChatMessage("assistant", "Why did the token cross the road?"),
    ChatMessage("user", "Another one, about cats."),
]


def test_a_vote_makes_a_pair_with_the_last_user_message_as_its_prompt() -> None:
    pair = pair_from_vote("b", TALK, "Meow.", "A cat walks into a bar…", "a.gguf", "b.gguf")
    assert pair.prompt == "Another one, about cats."
    assert pair.context == tuple(TALK[:3])  # the conversation before it
    assert (pair.chosen, pair.rejected) == ("A cat walks into a bar…", "Meow.")
    assert (pair.chosen_model, pair.rejected_model, pair.tie) == ("b.gguf", "a.gguf", False)
    left = pair_from_vote("a", TALK, "Meow.", "Purr.", "a.gguf", "b.gguf")
    assert (left.chosen, left.chosen_model) == ("Meow.", "a.gguf")
    tie = pair_from_vote("tie", TALK, "Meow.", "Purr.", "a.gguf", "b.gguf")
    assert tie.tie and (tie.chosen, tie.rejected) == ("Meow.", "Purr.")  # kept as shown
    with pytest.raises(ValueError):
        pair_from_vote("a", [ChatMessage("system", "x")], "1", "2", "a", "b")


def test_pairs_are_stored_and_read_back_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with PreferenceStore(path) as store:
        first = store.add(pair_from_vote("a", TALK, "Meow.", "Purr.", "a.gguf", "b.gguf"))
        store.add(pair_from_vote("tie", TALK[:2], "x", "y", "a.gguf", "a.gguf"))
        store.add(PreferencePair("p", "c", "r", source="rlhf"))
        assert first.id > 0 and first.created_at > 0
    with PreferenceStore(path) as store:
        pairs = store.pairs()
        assert [p.source for p in pairs] == ["compare", "compare", "rlhf"]
        assert pairs[0] == first and pairs[0].context == tuple(TALK[:3])
        assert pairs[1].tie and pairs[1].context == (TALK[0],)
        assert store.count() == 3 and store.count("compare") == 2
        assert [p.prompt for p in store.pairs(ties=False)] == ["Another one, about cats.", "p"]
        store.delete(first.id)
        assert store.count() == 2


def test_jsonl_export_and_import_round_trip(tmp_path: Path) -> None:
    with PreferenceStore(tmp_path / "a.sqlite3") as store:
        store.add(pair_from_vote("b", TALK, "Meow.", "Purr\n“quoted” 🐱", "a.gguf",
                                 "remote:https://api.together.xyz/v1#m"))  # fmt: skip
        store.add(pair_from_vote("tie", TALK[1:2], "x", "y", "a.gguf", "b.gguf"))
        assert store.export_jsonl(tmp_path / "pairs.jsonl") == 2
        exported = store.pairs()
    lines = (tmp_path / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert (first["prompt"], first["chosen"], first["rejected"]) == (
        "Another one, about cats.", "Purr\n“quoted” 🐱", "Meow."
    )  # fmt: skip
    assert first["context"][0] == {"role": "system", "content": "Be brief."}
    assert "context" not in json.loads(lines[1]) and json.loads(lines[1])["tie"] is True
    with PreferenceStore(tmp_path / "b.sqlite3") as other:
        assert other.import_jsonl(tmp_path / "pairs.jsonl") == (2, 0)
        assert [p.content_key() for p in other.pairs()] == [p.content_key() for p in exported]
        assert [p.source for p in other.pairs()] == ["compare", "compare"]  # as written
        assert other.import_jsonl(tmp_path / "pairs.jsonl") == (0, 2)  # nothing twice


def test_a_minimal_file_from_elsewhere_imports(tmp_path: Path) -> None:
    path = tmp_path / "trl.jsonl"
    path.write_text('{"prompt": "2+2?", "chosen": "4", "rejected": "5"}\n\n', encoding="utf-8")
    (pair,) = read_pairs(path)
    assert (pair.prompt, pair.chosen, pair.rejected, pair.tie, pair.source) == (
        "2+2?", "4", "5", False, "import"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("not json", "Line 2: not valid JSON"),
        ("[1, 2]", "Line 2: expected an object"),
        ('{"prompt": "p", "chosen": "c"}', 'Line 2: no "rejected"'),
        ('{"prompt": "p", "chosen": 4, "rejected": "r"}', 'the "chosen" must be text'),
        ('{"prompt": " ", "chosen": "c", "rejected": "r"}', 'the "prompt" is empty'),
        ('{"prompt": "p", "chosen": "c", "rejected": "r", "tie": "yes"}', '"tie" must be'),
        ('{"prompt": "p", "chosen": "\\ud800", "rejected": "r"}', "invalid character"),
        ('{"prompt": "p", "chosen": "c", "rejected": "r", "context": [{"role": "x"}]}',
         'each "context" message'),
    ],
)  # fmt: skip
def test_a_bad_line_is_named_and_nothing_is_imported(tmp_path: Path, line: str, said: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "p", "chosen": "c", "rejected": "r"}\n' + line + "\n")
    with PreferenceStore(tmp_path / "db.sqlite3") as store:
        with pytest.raises(PreferenceFileError, match=said.replace("(", r"\(")):
            store.import_jsonl(path)
        assert store.count() == 0


def test_a_database_from_before_preferences_opens_and_gets_the_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    before = [m.__name__ for m in MIGRATIONS].index("_create_preferences")
    migrate(conn, MIGRATIONS[:before])  # the schema as it was before the table
    conn.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('t', 1, 1)")
    conn.close()
    with PreferenceStore(path) as store:  # migrates
        assert store.count() == 0
        store.add(PreferencePair("p", "c", "r"))
        assert store.count() == 1
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT title FROM conversations").fetchone() == ("t",)
    assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    conn.close()

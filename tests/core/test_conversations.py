"""ConversationStore and PresetStore: plain pytest, real SQLite files in tmp_path."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.chat.generation import GenerationStats, TokenAlternative, TokenEvent
from desktop.core.chat.presets import DEFAULT_PRESETS
from desktop.core.storage import paths
from desktop.core.storage.conversation_records import DEFAULT_TITLE, title_from_first_message
from desktop.core.storage.conversations import ConversationStore
from desktop.core.storage.database import MIGRATIONS, SCHEMA_VERSION, migrate

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "chats.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[ConversationStore]:
    with ConversationStore(db_path) as s:
        yield s


def test_database_settings(store: ConversationStore) -> None:
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_default_path_follows_deepdive_home(tmp_path: Path) -> None:
    with ConversationStore() as s:
        s.create_conversation()
    assert (tmp_path / "home" / "deepdive.sqlite3").is_file()
    assert paths.models_dir() == tmp_path / "home" / "models"
    assert paths.models_dir().is_dir()


def test_conversation_crud(store: ConversationStore) -> None:
    conv = store.create_conversation(system_prompt="Be brief.", settings={"temperature": 0.2})
    assert conv.title == DEFAULT_TITLE
    assert conv.model_path is None
    assert conv.settings == {"temperature": 0.2}

    store.rename(conv.id, "Physics")
    store.set_system_prompt(conv.id, "Be thorough.")
    store.set_model(conv.id, "/models/smol.gguf")
    store.set_settings(conv.id, {"temperature": 0.9, "max_tokens": 64})
    got = store.get_conversation(conv.id)
    assert (got.title, got.system_prompt, got.model_path) == (
        "Physics",
        "Be thorough.",
        "/models/smol.gguf",
    )
    assert got.settings == {"temperature": 0.9, "max_tokens": 64}

    store.delete_conversation(conv.id)
    assert store.list_conversations() == []
    with pytest.raises(KeyError):
        store.get_conversation(conv.id)
    with pytest.raises(KeyError):
        store.rename(conv.id, "gone")
    with pytest.raises(KeyError):
        store.add_message(conv.id, "user", "hello?")


def test_list_is_most_recently_updated_first(store: ConversationStore) -> None:
    a = store.create_conversation(title="a")
    store.create_conversation(title="b")
    assert [c.title for c in store.list_conversations()] == ["b", "a"]
    store.add_message(a.id, "user", "hi")
    assert [c.title for c in store.list_conversations()] == ["a", "b"]


def test_messages_keep_their_order(store: ConversationStore) -> None:
    conv = store.create_conversation()
    for i, role in enumerate(["user", "assistant", "user", "assistant"]):
        msg = store.add_message(conv.id, role, f"m{i}")  # type: ignore[arg-type]
        assert msg.position == i
    assert [m.content for m in store.messages(conv.id)] == ["m0", "m1", "m2", "m3"]
    with pytest.raises(ValueError):
        store.add_message(conv.id, "robot", "beep")  # type: ignore[arg-type]


def test_delete_cascades_to_messages(store: ConversationStore, db_path: Path) -> None:
    keep, drop = store.create_conversation(), store.create_conversation()
    store.add_message(keep.id, "user", "keep me")
    store.add_message(drop.id, "user", "drop me")
    store.start_reply(drop.id)
    store.delete_conversation(drop.id)
    with sqlite3.connect(db_path) as raw:
        contents = [row[0] for row in raw.execute("SELECT content FROM messages")]
    assert contents == ["keep me"]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Why is the sky blue?", "Why is the sky blue?"),
        ("\n\n  first   line \nsecond line", "first line"),
        ("", DEFAULT_TITLE),
        ("   \n ", DEFAULT_TITLE),
        (
            "Explain how byte pair encoding builds its vocabulary from raw text",
            "Explain how byte pair encoding builds…",
        ),
        ("x" * 100, "x" * 39 + "…"),
    ],
)
def test_title_from_first_message(text: str, title: str) -> None:
    assert title_from_first_message(text) == title
    assert len(title_from_first_message(text)) <= 40


def test_store_titles_chat_from_first_user_message(store: ConversationStore) -> None:
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "What is a token?\nPlease explain.")
    store.add_message(conv.id, "assistant", "A piece of text.")
    store.add_message(conv.id, "user", "And a logit?")
    assert store.get_conversation(conv.id).title == "What is a token?"

    named = store.create_conversation(title="My experiment")
    store.add_message(named.id, "user", "hello")
    assert store.get_conversation(named.id).title == "My experiment"


def test_edit_and_resend(store: ConversationStore) -> None:
    conv = store.create_conversation()
    first = store.add_message(conv.id, "user", "2+2?")
    store.add_message(conv.id, "assistant", "5")
    store.add_message(conv.id, "user", "sure?")
    store.add_message(conv.id, "assistant", "yes")

    store.edit_and_truncate(first.id, "2+3?")
    reply = store.start_reply(conv.id)
    assert reply.position == 1
    assert [(m.role, m.content) for m in store.messages(conv.id)] == [
        ("user", "2+3?"),
        ("assistant", ""),
    ]


def test_partial_reply_is_visible_from_a_new_connection(
    store: ConversationStore, db_path: Path
) -> None:
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "Tell me a story")
    reply = store.start_reply(conv.id)
    store.update_reply(reply.id, "Once upon")
    store.update_reply(reply.id, "Once upon a time")

    with ConversationStore(db_path) as other:  # while the first connection is still open
        seen = other.messages(conv.id)[-1]
    assert (seen.status, seen.content) == ("partial", "Once upon a time")

    store.finish_reply(reply.id, "Once upon a time, the end.")
    store.update_reply(reply.id, "late update")  # a finished reply is never overwritten
    store.close()
    with ConversationStore(db_path) as reopened:
        done = reopened.messages(conv.id)[-1]
    assert (done.status, done.content) == ("complete", "Once upon a time, the end.")


def test_finish_reply_keeps_stats_and_token_probs(store: ConversationStore) -> None:
    conv = store.create_conversation()
    reply = store.start_reply(conv.id)
    stats = GenerationStats(1, 12, 2, 0.05, 40.0, "eos", text="Hi!")
    events = [
        TokenEvent("Hi", 10, 0.9, (TokenAlternative("Hello", 0.05),)),
        TokenEvent("!", 11, 0.8),
    ]
    store.finish_reply(reply.id, "Hi!", stats=stats, token_probs=events)
    msg = store.messages(conv.id)[0]
    assert msg.stats is not None
    assert msg.stats["generated_tokens"] == 2
    assert "text" not in msg.stats
    assert msg.token_probs is not None
    assert msg.token_probs[0]["alternatives"] == [{"text": "Hello", "prob": 0.05}]
    with pytest.raises(ValueError):
        store.finish_reply(reply.id, "x", status="partial")  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        store.finish_reply(12345, "x")


def _chat_with_failures(store: ConversationStore) -> int:
    conv = store.create_conversation(system_prompt="You are terse.")
    store.add_message(conv.id, "user", "Hi")
    store.add_message(conv.id, "assistant", "<think>greet back</think>Hello.")
    store.add_message(conv.id, "user", "Tell me more")
    failed = store.start_reply(conv.id)
    store.finish_reply(failed.id, "Tell", status="error")
    store.start_reply(conv.id)  # still streaming
    return conv.id


def test_openai_messages_skip_incomplete_replies(store: ConversationStore) -> None:
    conv_id = _chat_with_failures(store)
    expected = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "<think>greet back</think>Hello."},
        {"role": "user", "content": "Tell me more"},
    ]
    assert store.to_openai_messages(conv_id, include_system=False) == expected
    with_system = store.to_openai_messages(conv_id)
    assert with_system == [{"role": "system", "content": "You are terse."}, *expected]
    assert [m.role for m in store.chat_messages(conv_id)] == [m["role"] for m in with_system]


def test_export_jsonl(store: ConversationStore, tmp_path: Path) -> None:
    first = _chat_with_failures(store)
    second = store.create_conversation()
    store.add_message(second.id, "user", "Ünïcode ✓")
    store.add_message(second.id, "assistant", "ok")
    empty = store.create_conversation(system_prompt="only a system prompt")
    unanswered = store.create_conversation()
    store.add_message(unanswered.id, "user", "no reply yet")

    out = tmp_path / "export" / "train.jsonl"
    out.parent.mkdir()
    assert store.export_jsonl([first, second.id, empty.id, unanswered.id], out) == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0] == {"messages": store.to_openai_messages(first)}
    assert all(m["content"] != "Tell" for m in records[0]["messages"])
    assert records[1]["messages"][0] == {"role": "user", "content": "Ünïcode ✓"}
    assert os.listdir(out.parent) == ["train.jsonl"]  # no temp file left behind


def test_presets_are_seeded_saved_and_deleted(db_path: Path) -> None:
    with ConversationStore(db_path) as s:
        names = [p.name for p in s.presets.list_presets()]
        assert sorted(names) == sorted(p.name for p in DEFAULT_PRESETS)
        assert len(names) == 3

        s.presets.save("Pirate", "Talk like a pirate.")
        s.presets.save("Pirate", "Talk like a polite pirate.")
        pirate = s.presets.get("Pirate")
        assert pirate is not None
        assert pirate.system_prompt == "Talk like a polite pirate."
        assert s.presets.delete("Helpful assistant")
        assert not s.presets.delete("Helpful assistant")
        with pytest.raises(ValueError):
            s.presets.save("  ", "nameless")

    with ConversationStore(db_path) as s:  # seeding happens once, not on every open
        names = [p.name for p in s.presets.list_presets()]
    assert "Helpful assistant" not in names
    assert "Pirate" in names
    assert len(names) == 3


def test_migration_from_user_version_0(db_path: Path) -> None:
    sqlite3.connect(db_path).close()  # an empty database file, user_version 0
    with ConversationStore(db_path) as s:
        s.create_conversation(title="old")

    def add_pinned(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")

    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        migrate(conn, [*MIGRATIONS, add_pinned])
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert conn.execute("SELECT title, pinned FROM conversations").fetchall() == [("old", 0)]
    finally:
        conn.close()

    with pytest.raises(RuntimeError, match="newer"):
        ConversationStore(db_path)  # this app only knows SCHEMA_VERSION


_STREAMING_CHILD = """
import sys
from desktop.core.storage.conversations import ConversationStore

store = ConversationStore(sys.argv[1])
conv = store.create_conversation()
store.add_message(conv.id, "user", "Why is the sky blue?")
reply = store.start_reply(conv.id)
text = ""
i = 0
while True:
    i += 1
    text += f"token{i} "
    store.update_reply(reply.id, text)
    if i == 5:
        print("streaming", flush=True)
"""


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kill_delay", [0.0, 0.05, 0.3])
def test_killed_mid_reply_leaves_a_sound_database(db_path: Path, kill_delay: float) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", _STREAMING_CHILD, str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "streaming\n", child.stderr.read() if child.stderr else ""
        time.sleep(kill_delay)
    finally:
        child.kill()  # SIGKILL: no cleanup, no close, mid-transaction at any point
        child.communicate(timeout=10)
    assert child.returncode != 0

    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()
    with ConversationStore(db_path) as s:
        [conv] = s.list_conversations()
        user, reply = s.messages(conv.id)
    assert (user.role, user.content, user.status) == ("user", "Why is the sky blue?", "complete")
    assert (reply.role, reply.status) == ("assistant", "partial")
    assert reply.content.startswith("token1 token2 token3 token4 token5 ")

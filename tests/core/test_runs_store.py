"""Training runs in SQLite: listed newest first, updated as they go, upgraded in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop.core.storage.database import MIGRATIONS, migrate
from desktop.core.train.config import preset
from desktop.core.train.runs_store import RunsStore


def test_runs_are_added_updated_and_listed(tmp_path: Path) -> None:
    store = RunsStore(tmp_path / "db.sqlite3")
    first, second = tmp_path / "run-1", tmp_path / "run-2"
    first.mkdir()
    second.mkdir()
    a = store.add(first, "stdlib", preset("tiny"))
    b = store.add(second, "notes.txt", preset("small", steps=10))
    store.update(a, status="done", step=300, val_loss=3.5, exported_path="/x.gguf")
    runs = store.runs()
    assert [r.id for r in runs] == [a, b]  # the most recently updated first
    assert runs[0].status == "done" and runs[0].val_loss == 3.5 and runs[0].step == 300
    assert runs[1].config.steps == 10 and runs[1].config.preset == "small"
    assert "validation 3.500" in runs[0].label
    second.rmdir()
    assert [r.id for r in store.runs()] == [a]  # a run whose folder is gone is not offered
    store.close()


def test_a_chat_only_database_gains_the_runs_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])  # what the first release wrote
    conn.execute("INSERT INTO presets VALUES ('mine', 'be brief', 0)")
    conn.close()
    store = RunsStore(path)
    assert store.runs() == []
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT system_prompt FROM presets WHERE name = 'mine'").fetchone()
    conn.close()

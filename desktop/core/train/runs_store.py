"""The list of training runs, in the app's SQLite database: where each run's folder is,
what it trained on, how far it got, and where it was exported."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.core.storage.database import open_database
from desktop.core.train.config import TrainConfig


@dataclass(frozen=True)
class RunRecord:
    id: int
    folder: Path
    corpus: str
    config: TrainConfig
    status: str  # running, stopped, done, failed
    step: int
    val_loss: float | None
    exported_path: str | None
    updated_at: float

    @property
    def label(self) -> str:
        loss = f", validation {self.val_loss:.3f}" if self.val_loss is not None else ""
        return (f"{self.folder.name} · {self.config.preset} · {self.corpus} · step "
                f"{self.step}/{self.config.steps} ({self.status}{loss})")  # fmt: skip


class RunsStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self._conn = open_database(path)

    def close(self) -> None:
        self._conn.close()

    def add(self, folder: Path, corpus: str, config: TrainConfig) -> int:
        now = time.time()
        cur = self._conn.execute(
            "INSERT INTO training_runs (folder, corpus, config_json, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (str(folder), corpus, json.dumps(config.to_dict()), now, now),
        )
        return int(cur.lastrowid or 0)

    def update(self, run_id: int, **fields: object) -> None:
        allowed = {"status", "step", "val_loss", "exported_path"}
        if not set(fields) <= allowed:
            raise KeyError(f"unknown fields {set(fields) - allowed}")
        assignments = ", ".join(f"{name} = ?" for name in fields)  # names from `allowed`
        self._conn.execute(
            f"UPDATE training_runs SET {assignments}, updated_at = ? WHERE id = ?",
            (*fields.values(), time.time(), run_id),
        )

    def delete(self, run_id: int) -> None:
        """Forget a run (its folder is the caller's to remove)."""
        self._conn.execute("DELETE FROM training_runs WHERE id = ?", (run_id,))

    def mark_interrupted(self) -> None:
        """Runs still "running" from an earlier session ended with it (their checkpoint is
        at the last evaluation): they can be resumed."""
        self._conn.execute("UPDATE training_runs SET status = 'stopped' WHERE status = 'running'")

    def runs(self) -> list[RunRecord]:
        rows = self._conn.execute("SELECT * FROM training_runs ORDER BY updated_at DESC")
        return [_record(row) for row in rows if Path(row["folder"]).is_dir()]

    def find(self, folder: Path) -> RunRecord | None:
        row = self._conn.execute(
            "SELECT * FROM training_runs WHERE folder = ?", (str(folder),)
        ).fetchone()
        return _record(row) if row is not None else None

    def get(self, run_id: int) -> RunRecord:
        row = self._conn.execute("SELECT * FROM training_runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        return _record(row)


def _record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"],
        folder=Path(row["folder"]),
        corpus=row["corpus"],
        config=TrainConfig.from_dict(json.loads(row["config_json"])),
        status=row["status"],
        step=row["step"],
        val_loss=row["val_loss"],
        exported_path=row["exported_path"],
        updated_at=row["updated_at"],
    )

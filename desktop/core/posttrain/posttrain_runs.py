"""The list of fine-tuning runs, in the app's SQLite database: each run's folder, the model
it started from, what it learned from, how far it got, and where it was exported."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.core.storage.database import open_database

FIELDS = {"status", "step", "steps", "val_loss", "exported_path"}


@dataclass(frozen=True)
class PosttrainRecord:
    id: int
    folder: Path
    model_path: str
    data_label: str
    method: str  # "lora" or "full"
    status: str  # running, stopped, done, failed
    step: int
    steps: int
    val_loss: float | None
    exported_path: str | None
    quiz_run_id: int | None
    updated_at: float

    @property
    def label(self) -> str:
        loss = f", validation {self.val_loss:.3f}" if self.val_loss is not None else ""
        method = "LoRA" if self.method == "lora" else "full"
        return (f"{Path(self.model_path).stem} · {self.data_label} · {method} · step "
                f"{self.step}/{self.steps} ({self.status}{loss})")  # fmt: skip


class PosttrainRuns:
    def __init__(self, path: str | Path | None = None) -> None:
        self._conn = open_database(path)

    def close(self) -> None:
        self._conn.close()

    def add(
        self,
        folder: Path,
        model_path: str,
        data_label: str,
        method: str,
        steps: int,
        quiz_run_id: int | None = None,
    ) -> int:
        now = time.time()
        cur = self._conn.execute(
            "INSERT INTO posttrain_runs (folder, model_path, data_label, method, steps, "
            "quiz_run_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (str(folder), model_path, data_label, method, steps, quiz_run_id, now, now),
        )
        return int(cur.lastrowid or 0)

    def update(self, run_id: int, **fields: object) -> None:
        if not set(fields) <= FIELDS:
            raise KeyError(f"unknown fields {set(fields) - FIELDS}")
        assignments = ", ".join(f"{name} = ?" for name in fields)  # names from FIELDS
        self._conn.execute(
            f"UPDATE posttrain_runs SET {assignments}, updated_at = ? WHERE id = ?",
            (*fields.values(), time.time(), run_id),
        )

    def mark_interrupted(self) -> None:
        """Runs left "running" by an earlier session stopped with it: they can be resumed."""
        self._conn.execute("UPDATE posttrain_runs SET status = 'stopped' WHERE status = 'running'")

    def runs(self) -> list[PosttrainRecord]:
        rows = self._conn.execute("SELECT * FROM posttrain_runs ORDER BY updated_at DESC")
        return [_record(row) for row in rows if Path(row["folder"]).is_dir()]

    def find(self, folder: Path) -> PosttrainRecord | None:
        row = self._conn.execute(
            "SELECT * FROM posttrain_runs WHERE folder = ?", (str(folder),)
        ).fetchone()
        return _record(row) if row is not None else None

    def get(self, run_id: int) -> PosttrainRecord:
        row = self._conn.execute("SELECT * FROM posttrain_runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        return _record(row)


def _record(row: sqlite3.Row) -> PosttrainRecord:
    return PosttrainRecord(
        id=row["id"],
        folder=Path(row["folder"]),
        model_path=row["model_path"],
        data_label=row["data_label"],
        method=row["method"],
        status=row["status"],
        step=row["step"],
        steps=row["steps"],
        val_loss=row["val_loss"],
        exported_path=row["exported_path"],
        quiz_run_id=row["quiz_run_id"],
        updated_at=row["updated_at"],
    )


def new_posttrain_folder() -> Path:
    """A folder of its own for a fine-tuning run, created here."""
    import secrets

    from desktop.core.storage.paths import data_dir

    runs = data_dir() / "posttrain"
    runs.mkdir(parents=True, exist_ok=True)
    while True:
        folder = runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue

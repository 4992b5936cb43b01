"""Quiz runs in the app's SQLite database: the questions, settings and every graded answer,
so a run can be reopened, compared with others, or resumed after it was stopped."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from desktop.core.database import open_database, transaction
from desktop.core.quiz.interrogation import Mode, SampleAnswer
from desktop.core.quiz.qa import QAPair, QASource
from desktop.core.quiz.settings import QuizSettings

RunStatus = str  # running, stopped, done, failed


@dataclass(frozen=True)
class QuizRun:
    id: int
    model_path: str
    article_title: str
    article_text: str
    pairs: list[QAPair]
    settings: QuizSettings
    status: RunStatus
    created_at: float

    @property
    def model_name(self) -> str:
        return Path(self.model_path).name


class QuizStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self._conn = open_database(path)

    def close(self) -> None:
        self._conn.close()

    def add_run(
        self,
        model_path: str,
        article_title: str,
        article_text: str,
        pairs: list[QAPair],
        settings: QuizSettings,
    ) -> int:
        now = time.time()
        pairs_json = json.dumps([[p.question, p.answer, p.source] for p in pairs])
        cur = self._conn.execute(
            "INSERT INTO quiz_runs (model_path, article_title, article_text, pairs_json, "
            "settings_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (model_path, article_title, article_text, pairs_json,
             json.dumps(settings.to_dict()), now, now),
        )  # fmt: skip
        return int(cur.lastrowid or 0)

    def add_answer(self, run_id: int, answer: SampleAnswer) -> None:
        """Committed at once: a crash loses at most the answer being generated."""
        with transaction(self._conn):
            self._conn.execute(
                "INSERT OR REPLACE INTO quiz_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, answer.question_index, answer.mode, answer.sample, answer.text,
                 answer.confidence, answer.grade, answer.method),
            )  # fmt: skip
            self._touch(run_id)

    def set_status(self, run_id: int, status: RunStatus) -> None:
        with transaction(self._conn):
            self._conn.execute("UPDATE quiz_runs SET status = ? WHERE id = ?", (status, run_id))
            self._touch(run_id)

    def mark_interrupted(self, quiet_for_s: float = 120.0) -> None:
        """Runs left "running" by an earlier session ended with it; they can be resumed.
        A run written to in the last `quiet_for_s` may belong to a CLI still asking."""
        self._conn.execute(
            "UPDATE quiz_runs SET status = 'stopped' WHERE status = 'running' AND updated_at < ?",
            (time.time() - quiet_for_s,),
        )

    def delete(self, run_id: int) -> None:
        self._conn.execute("DELETE FROM quiz_runs WHERE id = ?", (run_id,))

    def runs(self) -> list[QuizRun]:
        rows = self._conn.execute("SELECT * FROM quiz_runs ORDER BY created_at DESC, id DESC")
        return [_run(row) for row in rows]

    def get(self, run_id: int) -> QuizRun:
        row = self._conn.execute("SELECT * FROM quiz_runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        return _run(row)

    def answers(self, run_id: int) -> list[SampleAnswer]:
        rows = self._conn.execute(
            "SELECT * FROM quiz_answers WHERE run_id = ? ORDER BY question_index, mode, sample",
            (run_id,),
        )
        return [
            SampleAnswer(
                question_index=row["question_index"],
                mode=cast(Mode, row["mode"]),
                sample=row["sample"],
                text=row["answer"],
                confidence=row["confidence"],
                grade=row["grade"],
                method=row["method"],
            )
            for row in rows
        ]

    def _touch(self, run_id: int) -> None:
        self._conn.execute(
            "UPDATE quiz_runs SET updated_at = ? WHERE id = ?", (time.time(), run_id)
        )


def _run(row: sqlite3.Row) -> QuizRun:
    return QuizRun(
        id=row["id"],
        model_path=row["model_path"],
        article_title=row["article_title"],
        article_text=row["article_text"],
        pairs=[QAPair(q, a, cast(QASource, s)) for q, a, s in json.loads(row["pairs_json"])],
        settings=QuizSettings.from_dict(json.loads(row["settings_json"])),
        status=row["status"],
        created_at=row["created_at"],
    )

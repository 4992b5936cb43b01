"""Quiz runs in the app's SQLite database: the questions, settings, every graded answer and
the exact prompt each question got, so a run can be reopened, compared with others, or
resumed after it was stopped."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from desktop.core.quiz.interrogation import AskedPrompt, Mode, SampleAnswer
from desktop.core.quiz.qa import QAPair, QASource
from desktop.core.quiz.quiz_prompts import FORM_LABELS, PromptForm
from desktop.core.quiz.settings import QuizSettings
from desktop.core.remote.servers import display_name
from desktop.core.storage.database import open_database, transaction

RunStatus = str  # running, stopped, done, failed
UNREADABLE = QAPair("(a question that could not be read)", "", "manual")


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
        return display_name(self.model_path)  # a file's name, or "model at host"


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
        pairs_json = json.dumps([pair_row(p) for p in pairs])
        cur = self._conn.execute(
            "INSERT INTO quiz_runs (model_path, article_title, article_text, pairs_json, "
            "settings_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (model_path, article_title, article_text, pairs_json,
             json.dumps(settings.to_dict()), now, now),
        )  # fmt: skip
        return int(cur.lastrowid or 0)

    def add_answer(self, run_id: int, answer: SampleAnswer) -> None:
        """Committed at once, with its prompt: a crash loses at most the answer being
        generated."""
        with transaction(self._conn):
            self._conn.execute(
                "INSERT OR REPLACE INTO quiz_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, answer.question_index, answer.mode, answer.sample, answer.text,
                 answer.confidence, answer.grade, answer.method),
            )  # fmt: skip
            if (p := answer.prompt) is not None:
                self._conn.execute(
                    "INSERT OR REPLACE INTO quiz_prompts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, answer.question_index, answer.mode, p.text, json.dumps(p.stops),
                     p.form, p.tokens, p.article_share),
                )  # fmt: skip
            self._touch(run_id)

    def set_settings(self, run_id: int, settings: QuizSettings) -> None:
        """A resumed run from before prompts were recorded gets how it is asked now."""
        self._conn.execute(
            "UPDATE quiz_runs SET settings_json = ? WHERE id = ?",
            (json.dumps(settings.to_dict()), run_id),
        )

    def prompts(self, run_id: int) -> dict[tuple[int, Mode], AskedPrompt]:
        """The prompt of each (question, mode) asked so far; none for runs from before
        prompts were recorded."""
        rows = self._conn.execute("SELECT * FROM quiz_prompts WHERE run_id = ?", (run_id,))
        found: dict[tuple[int, Mode], AskedPrompt] = {}
        for row in rows:
            stops = json.loads(row["stops_json"])
            form = row["form"] if row["form"] in FORM_LABELS else "chat"
            found[(row["question_index"], cast(Mode, row["mode"]))] = AskedPrompt(
                text=row["prompt"],
                stops=tuple(str(s) for s in stops) if isinstance(stops, list) else (),
                form=cast(PromptForm, form),
                tokens=row["tokens"],
                article_share=row["article_share"],
            )
        return found

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
        """Without their prompts (`prompts` has them: one per question and mode, not K)."""
        rows = self._conn.execute(
            "SELECT a.*, p.article_share FROM quiz_answers AS a LEFT JOIN quiz_prompts AS p "
            "USING (run_id, question_index, mode) WHERE a.run_id = ? "
            "ORDER BY a.question_index, a.mode, a.sample",
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
                article_share=row["article_share"] if row["article_share"] is not None else 1.0,
            )
            for row in rows
        ]

    def _touch(self, run_id: int) -> None:
        self._conn.execute(
            "UPDATE quiz_runs SET updated_at = ? WHERE id = ?", (time.time(), run_id)
        )


def pair_row(pair: QAPair) -> list[str]:
    """A pair as stored; the stem is left off when there is none, as rows were before."""
    row = [pair.question, pair.answer, pair.source]
    return [*row, pair.stem] if pair.stem else row


def pair_from_row(row: object) -> QAPair | None:
    """A stored pair: [question, answer, source] or, with a continuation stem, four."""
    if not isinstance(row, list) or len(row) not in (3, 4):
        return None
    if not all(isinstance(x, str) for x in row):
        return None
    source = row[2] if row[2] in ("model", "rules", "manual", "import") else "manual"
    return QAPair(row[0], row[1], cast(QASource, source), row[3] if len(row) == 4 else "")


def _run(row: sqlite3.Row) -> QuizRun:
    return QuizRun(
        id=row["id"],
        model_path=row["model_path"],
        article_title=row["article_title"],
        article_text=row["article_text"],
        # a row never read as a pair still takes its place: answers refer to pairs by index
        pairs=[pair_from_row(r) or UNREADABLE for r in json.loads(row["pairs_json"])],
        settings=QuizSettings.from_dict(json.loads(row["settings_json"])),
        status=row["status"],
        created_at=row["created_at"],
    )

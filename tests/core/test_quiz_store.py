"""The quiz store keeps what a run asked with: each pair's continuation stem, how the run
asked (base or instruct, refusals allowed), and the exact prompt of each question and mode;
runs written before any of that existed still load."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from desktop.core.quiz.interrogation import AskedPrompt, SampleAnswer
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.quiz_store import QuizStore
from desktop.core.quiz.settings import QuizSettings
from desktop.core.storage.database import MIGRATIONS, migrate

PAIRS = [
    QAPair("Who was the commander of Apollo 11?", "Neil Armstrong", "rules",
           stem="The commander of Apollo 11 was"),
    QAPair("Typed?", "yes", "manual"),
]  # fmt: skip
CLOSED = AskedPrompt("The commander of Apollo 11 was", ("\n",), "continuation", 8)
OPENED = AskedPrompt("Apollo 11 …\n\nThe commander of Apollo 11 was", ("\n",),
                     "continuation", 420, article_share=0.4)  # fmt: skip


def answer(index: int, mode: str, sample: int, prompt: AskedPrompt | None) -> SampleAnswer:
    share = prompt.article_share if prompt else 1.0
    return SampleAnswer(index, mode, sample, "Neil Armstrong", 0.9, "CORRECT", "exact",  # type: ignore[arg-type]
                        share, prompt)  # fmt: skip


def test_stems_settings_and_prompts_are_kept(tmp_path: Path) -> None:
    settings = QuizSettings(samples=2, asked_as="base", may_refuse=False, confident_at=0.6)
    store = QuizStore(tmp_path / "db.sqlite3")
    run_id = store.add_run("/m/gemma.gguf", "Apollo 11", "text", PAIRS, settings)
    for a in (answer(0, "closed", 0, CLOSED), answer(0, "closed", 1, CLOSED),
              answer(0, "open", 0, OPENED)):  # fmt: skip
        store.add_answer(run_id, a)
    store.close()
    store = QuizStore(tmp_path / "db.sqlite3")
    run = store.get(run_id)
    assert run.pairs == PAIRS and run.settings == settings
    assert store.prompts(run_id) == {(0, "closed"): CLOSED, (0, "open"): OPENED}
    # answers come back with the share of the article their prompt held
    assert [a.article_share for a in store.answers(run_id)] == [1.0, 1.0, 0.4]
    store.delete(run_id)  # its prompts go with it
    assert store.prompts(run_id) == {}
    store.close()


def test_a_database_and_runs_from_before_prompts_were_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:3])  # the schema as the last release left it
    old_settings = {"samples": 3, "temperature": 0.7, "max_tokens": 32, "open_book": True,
                    "judge": False, "seed": 0, "knows_at": 0.67, "doesnt_know_at": 0.34,
                    "refusal": "I'm sorry, I don't know the answer to that."}  # fmt: skip
    conn.execute(
        "INSERT INTO quiz_runs (model_path, article_title, article_text, pairs_json, "
        "settings_json, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ("/m/old.gguf", "Velmora", "text", json.dumps([["Capital?", "Osk", "rules"]]),
         json.dumps(old_settings), "done", 1.0, 1.0),
    )  # fmt: skip
    conn.execute("INSERT INTO quiz_answers VALUES (1, 0, 'closed', 0, 'Osk', 0.8, "
                 "'CORRECT', 'exact')")  # fmt: skip
    conn.close()
    store = QuizStore(path)  # migrates
    (run,) = store.runs()
    assert run.pairs == [QAPair("Capital?", "Osk", "rules", "")]
    assert (run.settings.asked_as, run.settings.ask_as, run.settings.may_refuse) == (
        "", "auto", False
    )  # fmt: skip
    assert store.prompts(run.id) == {}
    (old,) = store.answers(run.id)
    assert (old.text, old.article_share, old.prompt) == ("Osk", 1.0, None)
    store.set_settings(run.id, QuizSettings(asked_as="base"))  # a resumed old run
    assert store.get(run.id).settings.asked_as == "base"
    store.close()

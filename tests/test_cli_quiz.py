"""`deepdive-lab quiz` on the tiny fixture model, through the real model host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.qa_io import write_pairs
from desktop.core.quiz.quiz_store import QuizStore
from desktop.core.quiz.results import VERDICTS

ROOT = Path(__file__).resolve().parents[1]


def run_quiz(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEEPDIVE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "desktop", "quiz", "--threads", "1", "--context", "1024", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=180,
    )  # fmt: skip


def test_rule_questions_on_a_bundled_article_with_json_and_a_training_set(
    tiny_base_gguf: Path, tmp_path: Path
) -> None:
    sft = tmp_path / "sft.jsonl"
    result = run_quiz(
        tmp_path / "home", "--model", str(tiny_base_gguf), "--article", "velmora", "--count", "3",
        "--samples", "2", "--open-book", "--export-sft", str(sft), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    questions, summary = lines[:-1], lines[-1]["summary"]
    assert len(questions) == summary["questions"] == 3
    assert all(q["verdict"] in VERDICTS for q in questions)
    assert all(q["open_accuracy"] is not None for q in questions)
    assert sum(summary["verdicts"].values()) == 3
    # a model without a chat template (and "base" in its name) is a base model: asked to
    # continue the article's sentences, through the real llama.cpp
    assert (summary["asked_as"], summary["may_refuse"]) == ("base", False)
    assert "asking tiny-base.gguf as a base model" in result.stderr
    examples = [json.loads(line) for line in sft.read_text().splitlines()]
    assert [e["messages"][0]["content"] for e in examples] == [q["question"] for q in questions]
    # the run is stored where the Quiz tab finds it
    store = QuizStore(tmp_path / "home" / "deepdive.sqlite3")
    (run,) = store.runs()
    assert run.status == "done" and len(store.answers(run.id)) == 3 * 2 * 2
    assert run.settings.asked_as == "base"
    prompts = store.prompts(run.id)  # one per question and mode, as the tab shows them
    assert len(prompts) == 3 * 2 and all(p.stops == ("\n",) for p in prompts.values())
    assert {p.form for p in prompts.values()} <= {"continuation", "question list"}
    store.close()


def test_questions_from_a_file(tiny_gguf: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.csv"
    write_pairs(questions, [QAPair("What is two plus two?", "4")])
    article = tmp_path / "a.txt"
    article.write_text("Two plus two is 4.")
    result = run_quiz(tmp_path / "home", "--model", str(tiny_gguf), "--article", str(article),
                      "--questions", str(questions), "--samples", "1",
                      "--may-refuse")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1. What is two plus two?  [4]  -> ")
    assert "closed book" in result.stdout.splitlines()[-1]
    # a chat model, told that "I don't know" is an answer, in its own chat template
    store = QuizStore(tmp_path / "home" / "deepdive.sqlite3")
    (run,) = store.runs()
    (prompt,) = store.prompts(run.id).values()
    store.close()
    assert (run.settings.asked_as, run.settings.may_refuse, prompt.form) == (
        "instruct", True, "chat"
    )  # fmt: skip
    assert "<|im_start|>system" in prompt.text and 'say "I don\'t know"' in prompt.text


def test_clear_errors(tiny_gguf: Path, tmp_path: Path) -> None:
    missing = run_quiz(tmp_path, "--model", str(tiny_gguf), "--article", "no-such-file.md")
    assert missing.returncode == 2 and missing.stderr.startswith("error:")
    assert "no-such-file.md: no such file" in missing.stderr  # the cause
    assert "bundled articles: apollo_11," in missing.stderr and "velmora" in missing.stderr
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 20)
    bad_model = run_quiz(tmp_path, "--model", str(broken), "--article", "velmora")
    assert bad_model.returncode == 2 and "Traceback" not in bad_model.stderr
    assert "broken.gguf has an unsupported GGUF version (0)" in bad_model.stderr  # the cause
    assert "download it again" in bad_model.stderr  # the remedy
    bad_k = run_quiz(tmp_path, "--model", str(tiny_gguf), "--article", "velmora",
                     "--samples", "0")  # fmt: skip
    assert bad_k.returncode == 2 and "samples" in bad_k.stderr

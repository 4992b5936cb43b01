"""`deepdive-lab train` in a subprocess: JSON lines per evaluation, resume, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = "A model learns which token comes next, one step at a time. " * 400


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", "train", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        # one worker: the suite shares the cores, and two workers on a loaded machine wait
        # for each other at every step
        env={**os.environ, "DEEPDIVE_HOME": str(home), "OPENBLAS_NUM_THREADS": "1"},
    )  # fmt: skip


@pytest.mark.timeout(900)  # a hang guard: two runs of the tiny preset on a shared machine
def test_train_resume_and_export(tmp_path: Path) -> None:
    from desktop.core.models.model_info import read_model_info

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    out, gguf = tmp_path / "run", tmp_path / "model.gguf"
    first = run("--corpus", str(corpus), "--steps", "50", "--out", str(out), "--json",
                home=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    steps = [m["step"] for m in lines]
    assert steps[-1] == 50 and len(steps) >= 2 and steps == sorted(steps)
    assert all({"loss", "val_loss", "tokens_per_s", "bigram_val_loss"} <= m.keys() for m in lines)
    second = run("--corpus", str(corpus), "--steps", "75", "--out", str(out), "--json",
                 "--export", str(gguf), home=tmp_path)  # fmt: skip
    assert second.returncode == 0, second.stderr
    resumed = [json.loads(line)["step"] for line in second.stdout.splitlines()]
    assert resumed[-1] == 75 and min(resumed) > 50  # it went on from step 50
    info = read_model_info(gguf)
    assert info.architecture == "llama" and info.context_length == 1024
    from desktop.core.train.runs_store import RunsStore

    store = RunsStore(tmp_path / "deepdive.sqlite3")  # the app's database in DEEPDIVE_HOME
    (record,) = store.runs()  # listed once, though trained twice
    assert record.folder == out.resolve() and record.step == 75 and record.status == "done"
    store.close()


def test_a_missing_corpus_is_one_line(tmp_path: Path) -> None:
    result = run("--corpus", str(tmp_path / "nope.txt"), home=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == f"error: There is no corpus file {tmp_path / 'nope.txt'}: check the path.\n"
    )
    folder = run("--corpus", str(tmp_path), home=tmp_path)
    assert folder.returncode == 2 and "is a folder: give a text file" in folder.stderr


def test_a_different_preset_does_not_take_over_a_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    out = tmp_path / "run"
    assert run("--corpus", str(corpus), "--steps", "10", "--out", str(out),
               home=tmp_path).returncode == 0  # fmt: skip
    other = run("--corpus", str(corpus), "--preset", "small", "--out", str(out), home=tmp_path)
    assert other.returncode == 2 and "'tiny' run" in other.stderr
    short = tmp_path / "short.txt"
    short.write_text("too short")
    tiny = run("--corpus", str(short), "--out", str(tmp_path / "r2"), home=tmp_path)
    assert tiny.returncode == 2 and "Traceback" not in tiny.stderr

"""A damaged data folder outside the window: `--smoke`, `quiz` and `train --out` say what is
wrong in one line and exit, without a traceback, an abort or a changed database."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data_folder_cases import build

ROOT = Path(__file__).resolve().parents[1]


def deepdive(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "DEEPDIVE_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip


def one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if "propagateSizeHints" not in line]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "QThread" not in result.stderr
    return lines[0]


def test_smoke_with_a_damaged_database_says_so_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = build("corrupt_page", tmp_path / "home", monkeypatch)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = deepdive(tmp_path / "home", "--smoke")
    assert result.returncode == 1
    line = one_clean_line(result)
    assert line.startswith("deepdive-lab: The database ") and "is damaged" in line
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_quiz_with_a_damaged_database_is_one_line_before_loading_any_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = build("random_bytes", tmp_path / "home", monkeypatch)
    model = tmp_path / "never-loaded.gguf"  # no such file: the database is checked first
    result = deepdive(tmp_path / "home", "quiz", "--model", str(model), "--article", "velmora")
    assert result.returncode == 2
    line = one_clean_line(result)
    assert line.startswith(f"error: The file {path} is not a database")
    assert "move it aside" in line and "DEEPDIVE_HOME" in line


def test_train_with_a_newer_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build("newer_version", tmp_path / "home", monkeypatch)
    result = deepdive(tmp_path / "home", "train", "--steps", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    line = one_clean_line(result)
    assert line.startswith("error: The database ") and "update Deep Dive Lab" in line
    assert not (tmp_path / "run").exists()  # nothing was trained for a run it cannot list

"""The fuzz corpus (tests/fuzz/corpus.py) through every reader of hostile input: each case
gives a clean result or one clean error line — no traceback, no exception but the
documented one, no hang (pytest-timeout ends a case that does not finish: 120 s each).

`make test` runs a small seeded set; `make fuzz` runs thousands (FUZZ_CASES), and
FUZZ_SEED picks another corpus. A failing case is named by its seed and index.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import build_parser
from desktop.cli.inspect_command import inspect_command
from desktop.cli.models_command import models_command
from desktop.core.chat.template_check import template_errors
from desktop.core.models.gguf_check import UNCHECKABLE, check_gguf
from desktop.core.models.gguf_header import GGUFError
from desktop.core.models.library import scan_library
from desktop.core.models.model_info import ModelInfo, read_model_info
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.qa_io import QAFileError, read_pairs, write_pairs
from desktop.core.quiz.qa_parse import parse_qa_pairs
from tests.fuzz.corpus import base_gguf, gguf_case, quiz_case, reply_case, template_case

CASES = int(os.environ.get("FUZZ_CASES", "48"))
SEED = int(os.environ.get("FUZZ_SEED", "12"))
CHUNK = 24  # GGUF cases per library folder
REPO_ROOT = Path(__file__).resolve().parents[2]


def one_line(message: object) -> None:
    assert isinstance(message, str) and message.strip(), message
    assert "\n" not in message and "Traceback" not in message, message


def write_case(folder: Path, index: int) -> Path:
    label, data = gguf_case(SEED, index)
    path = folder / f"case-{label}.gguf"
    path.write_bytes(data)
    return path


def test_the_base_file_passes_so_mutations_mean_something(tmp_path: Path) -> None:
    path = tmp_path / "base.gguf"
    path.write_bytes(bytes(base_gguf(template="{{ messages }}").data))
    result = check_gguf(path, check_memory=False)
    assert result.ok and result.info is not None and result.info.vocab_size == 300


@pytest.mark.parametrize("index", range(CASES))
def test_gguf_case(tmp_path: Path, index: int) -> None:
    path = write_case(tmp_path, index)
    result = check_gguf(path, check_memory=False)
    if result.ok:
        assert result.info is not None and result.errors == []
        json.dumps(result.info.to_dict())
    else:
        assert len(result.errors) == 1 and result.info is None
        one_line(result.errors[0])
        assert UNCHECKABLE not in result.errors[0], f"seed {SEED} case {index}: a rule is missing"
    try:
        assert isinstance(read_model_info(path), ModelInfo)
    except GGUFError as exc:
        one_line(str(exc))
    out, err = io.StringIO(), io.StringIO()
    code = inspect_command(str(path), True, out, err)
    if code == 0:
        assert err.getvalue() == "" and json.loads(out.getvalue())["path"] == str(path)
    else:
        assert code == 2 and out.getvalue() == ""
        assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1


@pytest.mark.parametrize("chunk", range(-(-CASES // CHUNK)))
def test_gguf_cases_in_the_library(
    tmp_path: Path, tiny_gguf: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    (models / "good.gguf").write_bytes(tiny_gguf.read_bytes())
    cases = range(chunk * CHUNK, min(CASES, (chunk + 1) * CHUNK))
    for index in cases:
        write_case(models, index)
    entries = scan_library([models])
    assert len(entries) == len(cases) + 1  # every file is a row: none hidden, none lost
    good = next(e for e in entries if e.path.name == "good.gguf")
    assert good.info is not None and good.error is None
    for entry in entries:
        assert (entry.info is None) == (entry.error is not None)
        if entry.error is not None:
            one_line(entry.error)
    monkeypatch.setenv("DEEPDIVE_HOME", str(tmp_path / "home"))
    raw, err = io.BytesIO(), io.StringIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    assert models_command(build_parser().parse_args(["models", "list", "--json"]), out, err) == 0
    out.flush()
    assert err.getvalue() == ""
    assert len(json.loads(raw.getvalue().decode("utf-8"))) == len(cases) + 1


def test_cli_processes_print_json_or_one_error_line(tmp_path: Path) -> None:
    """The real entry point, in fresh interpreters: nothing else reaches the terminal."""
    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    paths = [write_case(models, index) for index in range(min(CASES, 12))]
    env = {**os.environ, "DEEPDIVE_HOME": str(tmp_path / "home")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                              text=True, env=env, cwd=REPO_ROOT, timeout=100)  # fmt: skip

    listed = run("models", "list", "--json")
    assert listed.returncode == 0 and listed.stderr == ""
    assert len(json.loads(listed.stdout)) == len(paths)
    for path in paths[:3]:
        done = run("inspect", str(path), "--json")
        assert "Traceback" not in done.stderr
        if done.returncode == 0:
            assert done.stderr == "" and json.loads(done.stdout)["path"] == str(path)
        else:
            assert done.returncode == 2 and done.stdout == ""
            assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1


@pytest.mark.parametrize("index", range(CASES))
def test_template_case(index: int) -> None:
    errors = template_errors("m.gguf", template_case(SEED, index))
    assert len(errors) <= 1
    for error in errors:
        one_line(error)
        assert error.startswith("m.gguf has a chat template ")


@pytest.mark.parametrize("index", range(CASES))
def test_quiz_file_case(tmp_path: Path, index: int) -> None:
    label, suffix, data = quiz_case(SEED, index)
    path = tmp_path / f"case-{label}{suffix}"
    path.write_bytes(data)
    try:
        pairs = read_pairs(path)
    except QAFileError as exc:
        one_line(str(exc))
        return
    assert all(isinstance(p, QAPair) and p.question and p.answer for p in pairs)
    for kind in (".csv", ".jsonl"):  # whatever was read is written and read back exactly
        again = tmp_path / f"again{kind}"
        write_pairs(again, pairs)
        assert read_pairs(again) == pairs


@pytest.mark.parametrize("index", range(CASES))
def test_model_reply_case(index: int) -> None:
    pairs = parse_qa_pairs(reply_case(SEED, index))
    assert all(isinstance(p, QAPair) and p.question and p.answer for p in pairs)

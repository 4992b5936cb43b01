"""`deepdive-lab run-code` in a subprocess: JSON, plain output, limits, files and stdin,
usage errors. The test run's data folder (and its compiled interpreter) is shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox_fixtures import sandbox

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures(sandbox.__name__)


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", "run-code", *args],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), input=stdin,
        timeout=100,
    )  # fmt: skip


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_json_has_the_promised_keys() -> None:
    data = as_json(cli("--json", "print(6 * 7)"))
    assert data["ok"] is True and data["stdout"] == "42\n" and data["stderr"] == ""
    assert data["error"] is None and data["limit_hit"] is None and data["exit_code"] == 0
    assert data["limits"]["cpu_seconds"] == 5.0


def test_code_that_raises_still_exits_0_with_its_error() -> None:
    data = as_json(cli("--json", "print('partial')\n{}['missing']"))
    assert data["ok"] is False and data["stdout"] == "partial\n"
    assert data["error"] == "KeyError: 'missing'"


def test_limits_are_options_and_a_hit_gives_its_sentence() -> None:
    data = as_json(cli("--json", "--cpu-seconds", "0.5", "--wall-seconds", "120",
                       "while True:\n    pass"))  # fmt: skip
    assert data["limit_hit"] == "cpu"
    assert data["error"] == "The code ran for more than 0.5 s of CPU time and was stopped."
    assert data["limits"]["cpu_seconds"] == 0.5
    data = as_json(cli("--json", "--output-kb", "1", "print('y' * 5000)"))
    assert data["limit_hit"] == "output" and data["stdout"] == "y" * 1024


def test_plain_output_passes_through_and_the_sentence_follows_on_stderr() -> None:
    done = cli("import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)")
    assert done.returncode == 0
    assert done.stdout == "to stdout\n" and done.stderr == "to stderr\n"
    limited = cli("--output-kb", "1", "print('z' * 5000)")
    assert limited.returncode == 0 and limited.stdout == "z" * 1024
    assert limited.stderr.strip() == (
        "The code printed more than 1 KB; the output was cut there and the code was stopped."
    )


def test_code_from_a_file_or_stdin(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("import math\nprint(math.factorial(10))\n", encoding="utf-8")
    assert cli("--file", str(script)).stdout == "3628800\n"
    assert cli("--file", "-", stdin="print('from stdin')").stdout == "from stdin\n"


@pytest.mark.parametrize("args", [
    (),  # no code at all
    ("print(1)", "--file", "x.py"),  # both
    ("--file", "does-not-exist.py"),
    ("--cpu-seconds", "0", "print(1)"),
    ("--memory-mb", "lots", "print(1)"),
])  # fmt: skip
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    done = cli(*args)
    assert done.returncode == 2, done
    assert done.stdout == "" and "error" in done.stderr

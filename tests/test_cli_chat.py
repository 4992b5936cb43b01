"""`deepdive-lab chat` on the tiny fixture model, through the real model host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop",
            *args,
            *(["--threads", "1"] if args[0] == "chat" else []),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=120,
    )


def test_chat_json_reports_the_reply_and_figures(tiny_gguf: Path) -> None:
    result = run_cli(
        "chat", str(tiny_gguf), "Hello", "--max-tokens", "8", "--seed", "3", "--json",
        "--context", "256",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) >= {"reply", "tokens", "time_to_first_token_s", "tokens_per_s"}
    assert 1 <= figures["tokens"] <= 8
    assert figures["prompt_mode"] == "chat template"
    # the streamed text came first, and it is the reply
    assert result.stdout.startswith(figures["reply"])
    assert result.stderr == ""


def test_chat_same_seed_same_reply(tiny_gguf: Path) -> None:
    def reply(seed: int) -> str:
        args = ("chat", str(tiny_gguf), "Hi", "--max-tokens", "6", "--seed", str(seed),
                "--temperature", "1.0", "--json")  # fmt: skip
        return str(json.loads(run_cli(*args).stdout.strip().splitlines()[-1])["reply"])

    first = reply(11)
    assert reply(11) == first
    assert {reply(12), reply(13)} - {first}  # the seed is used, not ignored


def test_chat_base_mode_on_a_model_without_template(tiny_base_gguf: Path) -> None:
    result = run_cli("chat", str(tiny_base_gguf), "Hi", "--max-tokens", "4", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["prompt_mode"] == "base model"


def test_chat_on_a_broken_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("this is not a model")
    result = run_cli("chat", str(bad), "Hi")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "notes.gguf is not a GGUF file" in lines[0]  # the cause
    assert "Pick a .gguf model file" in lines[0]  # the remedy

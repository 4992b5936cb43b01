"""`deepdive-lab inspect`: readable facts for a good file, one stderr line for a broken one."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.cli.inspect_command import EXIT_BROKEN_FILE, inspect_command
from tests.gguf_fixtures import BROKEN_KINDS


def run(path: Path | str, as_json: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = inspect_command(str(path), as_json, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_text_report(tiny_gguf: Path) -> None:
    code, out, err = run(tiny_gguf)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "Name:           tiny-chat" in lines
    assert "Architecture:   llama" in lines
    assert "Parameters:     123K (123,200)" in lines
    assert "Quantization:   F32" in lines
    assert "Context length: 4096" in lines
    assert "Chat template:  yes" in lines
    assert "Tokenizer:      gpt2" in lines
    size = tiny_gguf.stat().st_size
    assert f"File size:      {size / 1000:.0f} KB ({size:,} bytes)" in lines


def test_base_model_says_no_template(tiny_base_gguf: Path) -> None:
    assert "Chat template:  no" in run(tiny_base_gguf)[1].splitlines()


def test_json_report(tiny_gguf: Path) -> None:
    code, out, err = run(tiny_gguf, as_json=True)
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["parameter_count"] == 123_200
    assert data["quantization"] == "F32"
    assert data["context_length"] == 4096
    assert data["has_chat_template"] is True
    assert data["tokenizer_model"] == "gpt2"
    assert data["architecture"] == "llama"


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_broken_file_is_one_line_and_exit_2(broken_ggufs: Callable[[str], Path], kind: str) -> None:
    code, out, err = run(broken_ggufs(kind), as_json=kind == "empty")
    assert code == EXIT_BROKEN_FILE == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: broken-{kind}.gguf ")
    assert "Traceback" not in err


def test_missing_file(tmp_path: Path) -> None:
    code, _, err = run(tmp_path / "nope.gguf")
    assert code == 2 and err == f"error: {tmp_path / 'nope.gguf'} does not exist\n"


def test_real_process_prints_nothing_else(broken_ggufs: Callable[[str], Path]) -> None:
    """In a fresh interpreter: no warnings, logging or traceback reach the terminal."""
    script = (
        "import sys; from desktop.cli.inspect_command import inspect_command; "
        "sys.exit(inspect_command(sys.argv[1], False))"
    )
    path = broken_ggufs("mid_tensor_data")
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: broken-mid_tensor_data.gguf is truncated: tensor ")
    assert done.stderr.count("\n") == 1

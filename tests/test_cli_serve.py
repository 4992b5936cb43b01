"""`deepdive-lab serve` on the tiny fixture model: the real model host and llama.cpp,
asked by the official `openai` client, until Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

ROOT = Path(__file__).resolve().parents[1]


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop", "serve", *args],
        cwd=ROOT, env=os.environ.copy(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert process.stderr is not None
    lines = []
    deadline = time.monotonic() + 90  # a guard against a hang, not a measurement
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        found = re.search(r"on (http://127\.0\.0\.1:\d+/v1)", line)
        if found:
            return process, found.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("serve did not start:\n" + "".join(lines))


def test_serve_answers_the_openai_client_with_llama_cpp(tiny_gguf: Path) -> None:
    process, url = start("--model", str(tiny_gguf), "--port", "0", "--threads", "1",
                         "--context", "512", "--api-key", "k", "--quiet")  # fmt: skip
    try:
        client = openai.OpenAI(base_url=url, api_key="k", max_retries=0)
        assert [m.id for m in client.models.list()] == ["tiny-chat"]
        ask = {"model": "tiny-chat", "messages": [{"role": "user", "content": "Hello"}],
               "temperature": 0, "max_tokens": 8, "seed": 1}  # fmt: skip
        chunks = list(client.chat.completions.create(**ask, stream=True, logprobs=True,
                                                     top_logprobs=3))  # fmt: skip
        tokens = [c for c in chunks if c.choices and c.choices[0].logprobs]
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert 1 <= len(tokens) <= 8
        for chunk in tokens:
            entry = chunk.choices[0].logprobs.content[0]
            top = [t.logprob for t in entry.top_logprobs]
            assert len(top) == 3 and top == sorted(top, reverse=True) and top[0] <= 0
            # greedy: the token chosen is the likeliest one
            assert entry.logprob == pytest.approx(top[0], abs=1e-6)
        whole = client.chat.completions.create(**ask)
        assert whole.choices[0].message.content == streamed  # the same greedy reply
        assert whole.usage.completion_tokens == len(tokens)
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url, api_key="wrong", max_retries=0).models.list()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0


def test_serve_says_why_it_cannot_start(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    done = subprocess.run([sys.executable, "-m", "desktop", "serve", "--model", str(missing)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("error: ")

"""The app's headline path on its own model, through the real llama.cpp host: a model the
Train tab pretrained with the tiny preset and exported, chatted for five turns in base-model
and chat mode, then quizzed closed and open book.

The model is the shipped starter model: `packaging/make_starter_model.py` makes it with the
same training loop and export as the Train tab (tiny preset, Q8_0), and
tests/test_packaging.py checks that it is made that way, reproducibly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.generation import ChatMessage, LoadSettings, SamplingSettings
from desktop.core.resources import bundled_for_chat, bundled_models
from desktop.engine.chat_turn import ask, default_prompt_mode

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "Hello, who are you?",
    "What is the Eiffel Tower?",
    "Tell me more about it.",
    "When was Apollo 11 launched?",
    "Thank you. One more thing: where is Velmora?",
]


@pytest.fixture(scope="module")
def starter() -> Path:
    model = bundled_models()[0]
    assert model.name == "deepdive-starter.gguf"  # the base one (the assistant is second)
    return model


@pytest.mark.parametrize("mode", ["base", "template"])
def test_five_turns_in_every_prompt_mode_fit_the_context(
    llama_session: Any, starter: Path, mode: str
) -> None:
    llama_session.load(str(starter), LoadSettings(context_size=4096))
    model = llama_session.model
    assert model.context_size == 1024  # the setting, within what the model supports
    assert default_prompt_mode(model) == "base"  # pretrained only: its name says so
    messages: list[ChatMessage] = []
    for turn, question in enumerate(QUESTIONS):
        messages.append(ChatMessage("user", question))
        sampling = SamplingSettings(max_tokens=512, seed=turn + 1, temperature=0.8)
        reply = ask(llama_session, ChatRequest(tuple(messages), sampling, mode=mode))  # type: ignore[arg-type]
        fitted = reply.prompt
        assert fitted is not None
        assert reply.stats.stop_reason in ("eos", "stop", "length"), (turn, reply.stats)
        assert reply.stats.prompt_tokens == fitted.prompt_tokens  # the counter agrees
        assert fitted.prompt_tokens + reply.stats.generated_tokens <= model.context_size
        assert reply.stats.generated_tokens <= fitted.max_tokens
        messages.append(ChatMessage("assistant", reply.text))
    assert len(messages) == 10


@pytest.mark.parametrize("book", ["closed", "open"])
def test_it_is_quizzed_closed_and_open_book(starter: Path, tmp_path: Path, book: str) -> None:
    """Through the command line, as `deepdive-lab quiz` runs it: every question answered,
    asked as the base model it is; open book fits the article into its context."""
    env = dict(os.environ, DEEPDIVE_HOME=str(tmp_path))
    args = [sys.executable, "-m", "desktop", "quiz", "--model", str(starter),
            "--article", "velmora", "--samples", "1", "--count", "4", "--json"]  # fmt: skip
    if book == "open":
        args.append("--open-book")
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    summary = lines[-1]["summary"]
    answered = lines[:-1]
    assert summary["questions"] == len(answered) == 4
    assert summary["asked_as"] == "base"
    assert sum(summary["verdicts"].values()) == 4  # a verdict for every question
    assert all("closed_accuracy" in q for q in answered)
    if book == "open":
        assert all("open_accuracy" in q for q in answered)
        assert summary["open_book_accuracy"] is not None


def test_the_built_in_assistant_says_who_made_it_and_its_base_model_does_not(
    llama_session: Any, starter: Path
) -> None:
    """The second starter model is the first after the Post-train tab's identity SFT
    (packaging/make_starter_model.py): the Chat tab talks to it with its template."""
    question = (ChatMessage("user", "Who made you?"),)
    sampling = SamplingSettings(max_tokens=40, seed=1, temperature=0.0)
    answers = {}
    for path in (bundled_for_chat()[0], starter):
        llama_session.load(str(path), LoadSettings(context_size=512))
        mode = default_prompt_mode(llama_session.model)
        answers[mode] = ask(llama_session, ChatRequest(question, sampling, mode=mode)).text
    assert set(answers) == {"template", "base"}  # the names say which is which
    assert "Deep Dive Lab" in answers["template"], answers
    assert "Deep Dive Lab" not in answers["base"], answers

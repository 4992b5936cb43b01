"""What a hostile model file does to the model host and its callers: a template that
breaks the check fails the load with a sentence (no stuck "Loading…"), and whatever the
host prints natively never reaches the app's stdout (`--json` stays JSON)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop.core.chat.generation import LoadSettings
from desktop.engine.host_session import SessionError
from tests.conftest import EngineRecorder
from tests.core.test_hostile_templates import NESTED_IFS, with_template

# What ggml's crash handler prints when gdb attaches: ~80 lines of backtrace on fd 1.
BACKTRACE = "".join(
    f"#{i} 0x00007f00deadbeef in ggml_abort () from libggml.so\n" for i in range(79)
)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def nested_template_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_template(tmp_path_factory.mktemp("hostile"), NESTED_IFS, "nested.gguf")


def test_session_load_of_a_nested_template_fails_with_a_sentence(
    scripted_session: Any, nested_template_gguf: Path, tiny_gguf: Path
) -> None:
    session = scripted_session()
    with pytest.raises(SessionError) as caught:
        session.load(str(nested_template_gguf), LoadSettings())
    assert str(caught.value) == (
        "nested.gguf has a chat template that is nested too deeply to compile "
        "(llama.cpp could not load it)"
    )
    assert session.load(str(tiny_gguf), LoadSettings()).path == str(tiny_gguf)  # still usable


def test_engine_load_of_a_nested_template_fails_not_sticks(
    qtbot: Any, make_engine: Any, nested_template_gguf: Path
) -> None:
    engine = make_engine()
    record = EngineRecorder(engine)
    engine.load_requested.emit(str(nested_template_gguf), LoadSettings())
    qtbot.waitUntil(lambda: bool(record.load_failed), timeout=10_000)
    assert "nested too deeply to compile" in record.load_failed[0]
    assert record.loaded == []


def run_cli(
    args: list[str], script: dict[str, Any], patch: str
) -> subprocess.CompletedProcess[str]:
    """`deepdive-lab ARGS` in a real process whose model host runs the scripted backend
    (`patch` names the module whose HostSession is replaced)."""
    code = (
        "import sys, functools, importlib\n"
        "from desktop.engine.host_session import HostSession\n"
        "from desktop.engine.scripted_backend import BACKEND_NAME\n"
        f"module = importlib.import_module({patch!r})\n"
        f"module.HostSession = functools.partial(HostSession, BACKEND_NAME, {script!r})\n"
        "from desktop.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
    )  # fmt: skip


def test_tokens_json_is_exactly_json_when_the_host_prints_natively(tiny_gguf: Path) -> None:
    done = run_cli(
        ["tokens", "--tokenizer", str(tiny_gguf), "--json", "hello world"],
        {"native_stdout": BACKTRACE},
        "desktop.engine.gguf_tokenizer",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1  # one line: the JSON, and nothing else
    data = json.loads(done.stdout)
    assert data["tokenizer"] == tiny_gguf.name and data["pieces"] == ["hello", " world"]
    assert BACKTRACE in done.stderr  # the host's own output is kept, on stderr


def test_chat_json_is_the_reply_and_json_when_the_host_prints_natively(tiny_gguf: Path) -> None:
    done = run_cli(
        ["chat", str(tiny_gguf), "hi", "--json"],
        {"native_stdout": BACKTRACE, "replies": ["one two three"]},
        "desktop.cli.chat_command",
    )
    assert done.returncode == 0, done.stderr
    reply, figures, end = done.stdout.split("\n")
    assert (reply, end) == ("one two three", "")
    assert json.loads(figures)["reply"] == "one two three"
    assert "ggml_abort" in done.stderr


def test_a_crashing_host_prints_its_backtrace_to_stderr_only(tiny_gguf: Path) -> None:
    done = run_cli(
        ["chat", str(tiny_gguf), "hi", "--json"],
        {"native_stdout": BACKTRACE, "replies": ["one two three"], "crash_after_tokens": 0},
        "desktop.cli.chat_command",
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "error: The model crashed" in done.stderr and "ggml_abort" in done.stderr

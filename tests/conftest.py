"""Shared test setup: headless Qt, and an app data folder that is never the user's."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Before anything imports Qt: run headless, and keep every file the app writes in a
# throwaway folder (settings, the database, the models folder).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["DEEPDIVE_HOME"] = tempfile.mkdtemp(prefix="deepdive-test-home-")
# The compiled sandbox interpreter (7-25 s to make) is shared by every test, also those
# that give the app a fresh data folder of its own.
os.environ.setdefault(
    "DEEPDIVE_SANDBOX_CACHE", os.path.join(os.environ["DEEPDIVE_HOME"], "sandbox-cache")
)
# huggingface_hub reads these once, at import: its token store and cache stay in the
# throwaway folder too, and nothing can reach the real Hub by accident.
os.environ["HF_HOME"] = os.path.join(os.environ["DEEPDIVE_HOME"], "hf-home")
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"  # the discard port: tests set their own
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)
# API keys: the OS keychain is never used; a test that needs keys installs memory_keyring.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"


class EngineRecorder:
    """Collects an engine's answers in the GUI thread (queued, as the app receives them):
    its load and crash signals, and the signals of the replies started through
    `generate` (each reply is an engine task whose signals reach only its asker).

    pytest-qt's waitSignal on a signal emitted from another thread wakes up before the
    app's own queued slots have run, so tests wait on what a GUI-thread receiver saw.
    """

    def __init__(self, engine: Any) -> None:
        from PySide6.QtCore import QObject, Slot

        recorder = self

        class Receiver(QObject):
            @Slot(object)
            def loaded(self, model: Any) -> None:
                recorder.loaded.append(model)

            @Slot(str)
            def load_failed(self, message: str) -> None:
                recorder.load_failed.append(message)

            @Slot(str)
            def crashed(self, message: str) -> None:
                recorder.crashed.append(message)

        self.engine = engine
        self.loaded: list[Any] = []
        self.load_failed: list[str] = []
        self.tokens: list[tuple[int, Any]] = []
        self.batches: list[tuple[int, Any]] = []
        self.finished: list[Any] = []  # GenerationStats of each reply that ended
        self.replies: list[Any] = []  # ... and the ChatReply itself
        self.prompts: list[Any] = []  # FittedPrompt of each ChatRequest
        self.failed: list[tuple[int, str]] = []
        self.crashed: list[str] = []
        self.tasks: dict[int, Any] = {}
        self._receivers: list[Any] = []
        self.receiver = Receiver()
        engine.model_loaded.connect(self.receiver.loaded)
        engine.load_failed.connect(self.receiver.load_failed)
        engine.model_crashed.connect(self.receiver.crashed)

    def generate(self, request: Any, rid: int | None = None, *, preview: bool = False) -> Any:
        """Start a reply (a GenerationRequest, or a ChatRequest with the id `rid`)."""
        from PySide6.QtCore import QObject, Slot

        from desktop.engine.engine_task import ReplyTask

        recorder = self
        rid = rid if rid is not None else getattr(request, "request_id", len(self.tasks) + 1)

        class ReplyReceiver(QObject):
            @Slot(object)
            def prompt(self, fitted: Any) -> None:
                recorder.prompts.append(fitted)

            @Slot(object)
            def tokens(self, batch: Any) -> None:
                recorder.batches.append((rid, batch))
                recorder.tokens.extend((rid, event) for event in batch)

            @Slot(object)
            def finished(self, reply: Any) -> None:
                recorder.replies.append(reply)
                recorder.finished.append(reply.stats)

            @Slot(str, str)
            def ended(self, status: str, message: str) -> None:
                if status == "failed":
                    recorder.failed.append((rid, message))

        task = ReplyTask(request, preview=preview)
        receiver = ReplyReceiver()
        task.prompt_ready.connect(receiver.prompt)
        task.tokens.connect(receiver.tokens)
        task.finished.connect(receiver.finished)
        task.ended.connect(receiver.ended)
        self._receivers.append(receiver)
        self.tasks[rid] = task
        self.engine.run_task(task)
        return task

    def stop(self, rid: int) -> None:
        """Stop one reply, as the Chat tab's Stop does (a direct call)."""
        self.tasks[rid].cancel()


@pytest.fixture
def make_engine(qtbot: Any) -> Iterator[Any]:
    """Engines on their own QThread with the scripted backend; threads must end."""
    from desktop.engine.inference_engine import InferenceEngine
    from desktop.engine.scripted_backend import BACKEND_NAME

    engines: list[InferenceEngine] = []

    def make(**script: Any) -> InferenceEngine:
        engine = InferenceEngine(BACKEND_NAME, script)
        engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        thread = engine.thread()  # None once a window's close has shut the engine down
        engine.shutdown()
        assert thread is None or not thread.isRunning(), "an engine thread was left running"


# --- Tiny GGUF models (see tests/gguf_fixtures.py) ---


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny llama model with a ChatML chat template; F32, built once per session."""
    from tests.gguf_fixtures import make_tiny_gguf

    return make_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny-chat.gguf")


@pytest.fixture(scope="session")
def tiny_base_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tiny model without a chat template (a "base" model)."""
    from tests.gguf_fixtures import make_tiny_gguf

    return make_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny-base.gguf", chat_template=False)


@pytest.fixture
def broken_ggufs(tiny_gguf: Path, tmp_path: Path) -> Callable[[str], Path]:
    """`broken_ggufs(kind)` -> a damaged copy of tiny_gguf; kinds: gguf_fixtures.BROKEN_KINDS."""
    from tests.gguf_fixtures import write_broken_gguf

    def make(kind: str) -> Path:
        return write_broken_gguf(tiny_gguf, tmp_path / f"broken-{kind}.gguf", kind)

    return make


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """API keys kept in memory for one test (keyring's own backend API)."""
    import keyring

    from desktop.core.remote import keys
    from tests.memory_keyring import MemoryKeyring

    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)
    keys._session_only.clear()


@pytest.fixture
def fake_openai() -> Iterator[Any]:
    """`fake_openai(**options)` -> a FakeOpenAI server on 127.0.0.1, closed after the test."""
    from tests.fake_openai import FakeOpenAI

    servers: list[FakeOpenAI] = []

    def make(**options: Any) -> FakeOpenAI:
        server = FakeOpenAI(**options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def no_hub_token_left_behind() -> Iterator[None]:
    """huggingface_hub's token store is one file for the session (HF_HOME is read at
    import): a token a test saves must not reach the next test."""
    yield
    import sys

    if "huggingface_hub" in sys.modules:
        from huggingface_hub import constants

        for path in (constants.HF_TOKEN_PATH, constants.HF_STORED_TOKENS_PATH):
            Path(path).unlink(missing_ok=True)


from tests.hub_fixtures import fake_hub, gguf_bytes, hub, models_dir  # noqa: E402, F401
from tests.tiktoken_fixtures import served_encoding  # noqa: E402, F401


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """llama.cpp never runs inside the test process: a crash there (a damaged file, a CPU
    bug such as AMX's) would end the whole run. Tests use the model host or
    tests/llama_child.py; this fails the run if one loaded llama.cpp here."""
    import sys

    if "llama_cpp" in sys.modules:
        print("\nerror: a test imported llama_cpp into the pytest process; run it in a "
              "child process (tests/llama_child.py)", file=sys.stderr)  # fmt: skip
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

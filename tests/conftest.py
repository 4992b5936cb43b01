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
# huggingface_hub reads these once, at import: its token store and cache stay in the
# throwaway folder too, and nothing can reach the real Hub by accident.
os.environ["HF_HOME"] = os.path.join(os.environ["DEEPDIVE_HOME"], "hf-home")
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"  # the discard port: tests set their own
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)


class EngineRecorder:
    """Collects an engine's answers in the GUI thread (queued, as the app receives them).

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

            @Slot(int, object)
            def tokens(self, rid: int, batch: Any) -> None:
                recorder.batches.append((rid, batch))
                recorder.tokens.extend((rid, event) for event in batch)

            @Slot(object)
            def finished(self, stats: Any) -> None:
                recorder.finished.append(stats)

            @Slot(int, str)
            def failed(self, rid: int, message: str) -> None:
                recorder.failed.append((rid, message))

            @Slot(str)
            def crashed(self, message: str) -> None:
                recorder.crashed.append(message)

        self.loaded: list[Any] = []
        self.load_failed: list[str] = []
        self.tokens: list[tuple[int, Any]] = []
        self.batches: list[tuple[int, Any]] = []
        self.finished: list[Any] = []
        self.failed: list[tuple[int, str]] = []
        self.crashed: list[str] = []
        self.receiver = Receiver()
        engine.model_loaded.connect(self.receiver.loaded)
        engine.load_failed.connect(self.receiver.load_failed)
        engine.tokens.connect(self.receiver.tokens)
        engine.finished.connect(self.receiver.finished)
        engine.failed.connect(self.receiver.failed)
        engine.model_crashed.connect(self.receiver.crashed)


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """llama.cpp never runs inside the test process: a crash there (a damaged file, a CPU
    bug such as AMX's) would end the whole run. Tests use the model host or
    tests/llama_child.py; this fails the run if one loaded llama.cpp here."""
    import sys

    if "llama_cpp" in sys.modules:
        print("\nerror: a test imported llama_cpp into the pytest process; run it in a "
              "child process (tests/llama_child.py)", file=sys.stderr)  # fmt: skip
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

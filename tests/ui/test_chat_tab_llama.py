"""The Chat tab on the real llama.cpp (a tiny random model, through the real host process):
load, send, token probabilities, stop - what the scripted backend cannot prove."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def real_chat(qtbot: Any, store: Any) -> Iterator[Any]:
    from desktop.engine.inference_engine import InferenceEngine
    from desktop.ui.chat.chat_tab import ChatTab

    engine = InferenceEngine()  # llama.cpp, in its own host process
    engine.start()
    tab = ChatTab(engine, store)
    qtbot.addWidget(tab)
    tab.resize(1100, 700)
    tab.show()
    yield tab
    tab.shutdown()
    engine.shutdown()


def load(qtbot: Any, tab: Any, path: Path) -> None:
    tab.panel.context_size.setValue(1024)
    tab.load_model(str(path))
    qtbot.waitUntil(lambda: tab.model is not None, timeout=30_000)


def test_load_send_and_see_token_probabilities(qtbot: Any, real_chat: Any, tiny_gguf) -> None:
    tab = real_chat
    load(qtbot, tab, tiny_gguf)
    assert tab.model.context_size == 1024 and "CPU variant" in tab.model.runtime
    assert "Model ready" in tab.status.text()
    tab.panel.show_probabilities.setChecked(True)
    tab.panel.max_tokens.setValue(12)
    with qtbot.waitSignal(tab.reply_finished, timeout=30_000) as done:
        tab.composer.edit.setPlainText("Hello there")
        qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    stats = done.args[0]
    assert 1 <= stats.generated_tokens <= 12 and stats.prompt_tokens > 0
    stored = tab.store.messages(tab.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[-1].content == stats.text and stored[-1].status == "complete"
    assert stored[-1].stats["prompt"]["mode"] == "template"  # the ChatML template
    reply = tab.transcript.messages[-1]
    with_text = [e for e in reply.events if e.text]
    assert with_text and all(0.0 < e.prob <= 1.0 and e.alternatives for e in with_text)
    assert stored[-1].token_probs  # the colours come back with the conversation
    assert tab.context_used == stats.prompt_tokens + stats.generated_tokens


@pytest.fixture(scope="module")
def slow_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A base model big enough (7M F32 weights: ~30 MB read per token) that a long reply
    takes seconds, so a person - and this test - can press Stop in the middle of it."""
    from dataclasses import replace

    from tests.gguf_fixtures import TINY_SHAPE, make_tiny_gguf

    shape = replace(TINY_SHAPE, dim=384, n_layers=4, n_heads=6, n_kv_heads=6, ffn_dim=1024)
    return make_tiny_gguf(tmp_path_factory.mktemp("slow") / "slow-base.gguf",
                          chat_template=False, shape=shape)  # fmt: skip


def test_stop_keeps_what_llama_cpp_wrote(qtbot: Any, real_chat: Any, slow_gguf: Path) -> None:
    tab = real_chat
    tab.panel.context_size.setValue(4096)
    tab.load_model(str(slow_gguf))
    qtbot.waitUntil(lambda: tab.model is not None, timeout=30_000)
    tab.panel.set_mode("raw")  # a document that goes on: no user line to stop at
    tab.panel.max_tokens.setValue(4000)
    tab.panel.seed.setValue(5)  # this seed's text runs long before an end token
    tab.panel.temperature.setValue(1.0)
    tab.composer.edit.setPlainText("Once upon a time")
    qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.reply is not None and len(tab.reply.events) >= 5,
                    timeout=30_000)  # fmt: skip
    with qtbot.waitSignal(tab.reply_finished, timeout=30_000) as done:
        qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)  # Stop
    stats = done.args[0]
    assert stats.stop_reason == "cancelled"
    stored = tab.store.messages(tab.conversation_id)[-1]
    assert stored.status == "complete" and stored.content == stats.text != ""
    assert tab.composer.button.text() == "Send"

"""UI fixtures: a Chat tab on a scripted engine, in a fresh data folder per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.storage.conversations import ConversationStore


@pytest.fixture(autouse=True)
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DEEPDIVE_HOME", str(home))
    return home


@pytest.fixture
def store(fresh_home: Path) -> Iterator[ConversationStore]:
    with ConversationStore(fresh_home / "test.sqlite3") as s:
        yield s


@pytest.fixture
def make_chat(
    qtbot: Any, make_engine: Any, store: ConversationStore, tiny_gguf: Path
) -> Iterator[Callable[..., Any]]:
    """A ChatTab whose engine runs the scripted backend, with the tiny model loaded."""
    from desktop.ui.chat.chat_tab import ChatTab

    tabs: list[ChatTab] = []

    def make(load: bool = True, **script: Any) -> ChatTab:
        engine = make_engine(**script)
        tab = ChatTab(engine, store)
        qtbot.addWidget(tab)
        tab.resize(1100, 700)
        tab.show()
        tabs.append(tab)
        if load:
            tab.load_model(str(tiny_gguf))
            qtbot.waitUntil(lambda: tab.model is not None, timeout=10_000)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()

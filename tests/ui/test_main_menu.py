"""The menu bar: File opens any GGUF in the Chat tab, View zooms, Help has the lessons and
About (the issue's Help → About)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _menu(window: Any, title: str) -> Any:
    return next(a.menu() for a in window.menuBar().actions() if a.text() == title)


def test_file_open_loads_the_chosen_model_in_the_chat_tab(
    qtbot: Any, make_engine: Any, store: Any, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.ui.chat import model_bar
    from desktop.ui.main_window import MainWindow

    engine = make_engine()
    window = MainWindow(engine=engine, store=store)
    qtbot.addWidget(window)
    window.tabs.setCurrentWidget(window.models_tab)
    monkeypatch.setattr(model_bar.QFileDialog, "getOpenFileName",
                        lambda *args, **kwargs: (str(tiny_gguf), ""))  # fmt: skip
    assert window.menu.open_model in _menu(window, "&File").actions()
    window.menu.open_model.trigger()
    assert window.tabs.currentWidget() is window.chat_tab
    qtbot.waitUntil(lambda: engine.loaded_model is not None, timeout=20_000)
    assert engine.loaded_model.path == str(tiny_gguf)
    assert window.chat_tab.model_bar.current_path() == str(tiny_gguf)  # listed, chosen
    window.close()


def test_view_zooms_and_help_opens_the_lessons(qtbot: Any, make_engine: Any, store: Any) -> None:
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    from PySide6.QtGui import QKeySequence

    items = {a.text(): a for a in _menu(window, "&View").actions()}
    assert QKeySequence("Ctrl+=") in items["Zoom in"].shortcuts()  # the key's own action
    items["Zoom in"].trigger()
    assert window.presenter.zoom == 110
    items["Actual size"].trigger()
    assert window.presenter.zoom == 100
    assert window.lessons is None
    assert window.lessons_action in _menu(window, "&Help").actions()
    assert window.lessons_action.shortcut() == QKeySequence("F1")
    window.lessons_action.trigger()
    assert window.lessons is not None and window.lessons.isVisibleTo(window)
    window.close()

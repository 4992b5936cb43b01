"""The window's menu bar: File (open a model file, quit), View (presenter zoom, lessons) and
Help (lessons, About - the versions and which llama.cpp CPU variant runs here).

The keys stay where they are defined (the Presenter's zoom keys, F1 for lessons); a menu
item shows its key after a tab character, so a person finds the key there without Qt
seeing two owners of one shortcut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from desktop.ui.presenter import Presenter

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

GGUF_FILTER = "GGUF models (*.gguf);;All files (*)"


@dataclass(frozen=True)
class MainMenu:
    open_model: QAction
    quit: QAction
    lessons: QAction
    about: QAction


def _item(menu: QMenu, text: str, slot: Callable[[], object], keys: str = "") -> QAction:
    action = menu.addAction(f"{text}\t{keys}" if keys else text)
    action.triggered.connect(slot)
    return action


def add_main_menu(window: MainWindow, presenter: Presenter) -> MainMenu:
    bar = window.menuBar()
    bar.setAccessibleName("Menu bar")
    file_menu = bar.addMenu("&File")
    open_model = _item(file_menu, "Open a model file…", lambda: _open_model(window))
    open_model.setShortcut(QKeySequence.StandardKey.Open)
    file_menu.addSeparator()
    quit_app = _item(file_menu, "Quit", window.close)
    quit_app.setShortcut(QKeySequence.StandardKey.Quit)
    view = bar.addMenu("&View")
    _item(view, "Zoom in", presenter.zoom_in, "Ctrl+=")
    _item(view, "Zoom out", presenter.zoom_out, "Ctrl+-")
    _item(view, "Actual size", presenter.reset, "Ctrl+0")
    help_menu = bar.addMenu("&Help")
    lessons = _item(help_menu, "Lessons", window.toggle_lessons, "F1")
    help_menu.addSeparator()
    about = _item(help_menu, "About Deep Dive Lab", window.show_about)
    return MainMenu(open_model, quit_app, lessons, about)


def _open_model(window: MainWindow) -> None:
    """A GGUF file from anywhere, opened in the Chat tab (as a double-click on one is)."""
    path, _ = QFileDialog.getOpenFileName(window, "Open a model file", "", GGUF_FILTER)
    if path:
        window.chat_with(path)

"""The window's menu bar: File (open a model file, quit), View (presenter zoom) and Help
(lessons, About - the versions and which llama.cpp CPU variant runs here).

The items are the actions that own the keys (the Presenter's zoom actions, the window's
Lessons action), so a menu shows each key as the platform writes it and cannot drift
from what the key does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from desktop.ui.presenter import Presenter

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow


@dataclass(frozen=True)
class MainMenu:
    open_model: QAction
    quit: QAction
    about: QAction


def add_main_menu(window: MainWindow, presenter: Presenter) -> MainMenu:
    bar = window.menuBar()
    bar.setAccessibleName("Menu bar")
    file_menu = bar.addMenu("&File")
    open_model = file_menu.addAction("Open a model file…")
    open_model.setShortcut(QKeySequence.StandardKey.Open)
    open_model.triggered.connect(window.open_model_file)
    file_menu.addSeparator()
    quit_app = file_menu.addAction("Quit")
    quit_app.setShortcut(QKeySequence.StandardKey.Quit)
    quit_app.triggered.connect(window.close)
    view = bar.addMenu("&View")
    view.addActions([presenter.zoom_in_action, presenter.zoom_out_action, presenter.reset_action])
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(window.lessons_action)
    help_menu.addSeparator()
    about = help_menu.addAction("About Deep Dive Lab")
    about.triggered.connect(window.show_about)
    return MainMenu(open_model, quit_app, about)

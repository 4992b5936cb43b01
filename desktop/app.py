"""Builds the QApplication and the main window. Heavy libraries are not imported here:
llama.cpp lives in the model-host process, tiktoken and huggingface_hub load on demand."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon


def run_app(
    *, smoke: bool = False, screenshot: str | None = None, open_model: str | None = None
) -> int:
    """The window; `open_model`: a .gguf to load in the Chat tab at once (a double-click)."""
    import os

    from desktop.display_check import display_problem

    problem = display_problem(os.environ)
    if problem:  # before Qt: its own abort names no package and dumps core
        print(problem, file=sys.stderr)
        return 1

    # Qt hands large fills (plot backgrounds, antialiased curves) to helper threads and the
    # window waits for them; with training on one core and other programs on the other,
    # they wait for a core: the GUI stall's p99 while training was 24-39 ms with them,
    # 11-14 ms without (bench_train). Read once, at the first paint.
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.ui.file_open import ModelFileOpener
    from desktop.ui.main_window import MainWindow
    from desktop.ui.startup import settle_at_start, show_refused_writes

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Deep Dive Lab")
    app.setOrganizationName("DeepDiveLab")
    # Before the window (and the engine's thread): a damaged or unusable data folder is a
    # question to the person, not a traceback.
    settled = settle_at_start(interactive=not (smoke or screenshot))
    if settled is None:
        return 1
    window = MainWindow()
    window.setWindowIcon(app_icon())
    for note in settled.notes:
        window.show_notice(note)
    show_refused_writes(window.show_notice)
    window.show()
    opener = ModelFileOpener(window.chat_with, window)  # macOS: a double-clicked .gguf
    app.installEventFilter(opener)
    if open_model:
        window.chat_with(os.path.abspath(open_model))
    if smoke or screenshot:

        def finish() -> None:
            visited = window.visit_every_tab()
            if screenshot:
                window.tabs.setCurrentIndex(0)
                window.grab().save(screenshot)
            print(f"smoke: visited {visited} tabs", flush=True)
            window.close()

        QTimer.singleShot(300, finish)
    code = app.exec()
    return int(code)


def app_icon() -> QIcon:
    from PySide6.QtGui import QIcon

    from desktop.core.resources import resources_dir

    return QIcon(str(resources_dir() / "icon.png"))

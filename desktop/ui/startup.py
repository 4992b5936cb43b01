"""Before the main window: settle the data folder (asking the person when it cannot be
used), and after it, turn a refused write of a read-only session into a sentence."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QFileDialog

from desktop.core.storage.data_folder import Settled, settle_data_folder
from desktop.core.storage.data_problems import Choice, DataProblem, ReadOnlyDatabase
from desktop.ui.data_problem_dialog import DataProblemDialog


def settle_at_start(interactive: bool = True) -> Settled | None:
    """The data folder to start with; None: quit. Without `interactive` (--smoke, a
    screenshot) nobody can answer: a problem is printed and the answer is "quit"."""

    def ask(problem: DataProblem) -> Choice:
        print(f"deepdive-lab: {problem.sentence}", file=sys.stderr, flush=True)
        if not interactive:
            return "quit"
        dialog = DataProblemDialog(problem)
        dialog.exec()
        return dialog.choice

    def pick_folder() -> Path | None:
        folder = QFileDialog.getExistingDirectory(
            None, "Choose a data folder for this session (nothing is remembered)"
        )
        return Path(folder) if folder else None

    return settle_data_folder(ask, pick_folder)


def show_refused_writes(show: Callable[[str], None]) -> None:
    """A write refused by a read-only session reaches no handler in the tabs: say it in the
    window (`show(sentence)`) instead of printing a traceback. Other errors go on as before."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if isinstance(exc, ReadOnlyDatabase):
            print(f"deepdive-lab: {exc}", file=sys.stderr)
            show(str(exc))
        else:
            previous(kind, exc, tb)

    sys.excepthook = hook

"""Start-up with a damaged data folder, in the GUI: a dialog before the window, with the
sentence and one button per choice; "move aside" and "open read-only" then start the
window (pytest-qt; the cases are built by tests/data_folder_cases.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.core.storage import database
from desktop.core.storage.data_folder import check_data_folder
from desktop.core.storage.paths import DATABASE_NAME
from desktop.ui.data_problem_dialog import DataProblemDialog
from desktop.ui.startup import settle_at_start, show_refused_writes
from tests.data_folder_cases import build

SHOTS = Path(os.environ.get("DEEPDIVE_TEST_SHOTS", "/tmp"))


@pytest.fixture(autouse=True)
def _no_read_only_left() -> Iterator[None]:
    yield
    database.forget_read_only()


def answer_dialog(qtbot: Any, choice: str, shown: list[DataProblemDialog]) -> None:
    """When the modal dialog is up, remember it (and a screenshot), then press `choice`."""

    def press() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, DataProblemDialog):
            QTimer.singleShot(20, press)
            return
        shown.append(dialog)
        dialog.grab().save(str(SHOTS / f"deepdive-startup-{dialog.problem.kind}.png"))
        dialog.buttons[choice].click()  # type: ignore[index]

    QTimer.singleShot(0, press)


@pytest.mark.parametrize(
    ("case", "buttons"),
    [
        ("corrupt_page", ["Move it aside and start fresh", "Use another data folder…", "Quit"]),
        ("newer_version", ["Open read-only", "Use another data folder…", "Quit"]),
    ],
)
def test_the_dialog_says_what_is_wrong_and_offers_only_what_is_possible(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, buttons: list[str]
) -> None:
    path = build(case, tmp_path / "home", monkeypatch)
    problem = check_data_folder(tmp_path / "home")
    assert problem is not None
    dialog = DataProblemDialog(problem)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.sentence.text() == problem.sentence and str(path) in dialog.sentence.text()
    assert [b.text() for b in dialog.buttons.values()] == buttons
    dialog.grab().save(str(SHOTS / f"deepdive-dialog-{case}.png"))
    dialog.close()
    assert dialog.choice == "quit"  # closing the window is quitting


def test_moving_aside_starts_the_window_on_a_fresh_database_and_keeps_the_old_file(
    qtbot: Any, make_engine: Any, fresh_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.ui.main_window import MainWindow

    path = build("random_bytes", fresh_home, monkeypatch)
    damaged = path.read_bytes()
    shown: list[DataProblemDialog] = []
    answer_dialog(qtbot, "move_aside", shown)
    settled = settle_at_start(interactive=True)
    assert settled is not None and [d.problem.kind for d in shown] == ["not_a_database"]
    window = MainWindow(engine=make_engine())
    qtbot.addWidget(window)
    for note in settled.notes:
        window.show_notice(note)
    (kept,) = fresh_home.glob(f"{DATABASE_NAME}.damaged-*")
    assert kept.read_bytes() == damaged
    assert window.store.list_conversations()  # the Chat tab made its first chat: writable
    assert "moved aside" in window.notice.text() and str(kept) in window.notice.text()
    window.close()


def test_a_read_only_session_shows_the_conversations_and_refuses_writes_with_a_sentence(
    qtbot: Any, make_engine: Any, fresh_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.ui.main_window import MainWindow

    build("newer_version", fresh_home, monkeypatch)
    shown: list[DataProblemDialog] = []
    answer_dialog(qtbot, "open_read_only", shown)
    settled = settle_at_start(interactive=True)
    assert settled is not None and settled.read_only
    window = MainWindow(engine=make_engine())
    qtbot.addWidget(window)
    for note in settled.notes:
        window.show_notice(note)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    show_refused_writes(window.show_notice)
    assert len(window.store.list_conversations()) == 12
    assert window.visit_every_tab() == 7
    assert window.quiz_tab.store.runs() == [] and window.train_tab.store.runs() == []
    assert "Not saved" not in window.notice.text()  # the tabs opened without writing
    window.resize(1000, 600)
    window.tabs.setCurrentWidget(window.chat_tab)
    window.chat_tab.sidebar.new_requested.emit()  # New chat: refused, said in the window
    assert "Not saved: the database" in window.notice.text()
    assert "open read-only in this session" in window.notice.text()
    assert "Read-only" in window.notice.text()
    window.grab().save(str(SHOTS / "deepdive-read-only-window.png"))
    assert len(window.store.list_conversations()) == 12
    window.close()


def test_without_a_person_to_ask_the_problem_is_printed_and_the_app_quits(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build("zeroed_header", fresh_home, monkeypatch)
    assert settle_at_start(interactive=False) is None
    assert "is not a database" in capsys.readouterr().err

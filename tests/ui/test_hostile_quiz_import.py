"""The Quiz tab's Import: a hostile or unforeseen file is a sentence in the status line,
never a silent nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def page(qtbot: Any) -> Any:
    from desktop.ui.quiz.questions_page import QuestionsPage

    widget = QuestionsPage()
    qtbot.addWidget(widget)
    return widget


def test_deeply_nested_jsonl_says_which_line(page: Any, tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"question": "Who?", "answer": "Curie"}\n' + "[" * 100_000 + "]" * 100_000)
    assert page.import_pairs(path) == 0
    assert page.status.text() == (
        "Could not import deep.jsonl: line 2: nested too deeply to read (not a question file?)"
    )
    assert page.table_model.pairs == []  # nothing half-imported


def test_an_unforeseen_failure_is_said_too(
    page: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.ui.quiz import questions_page

    def broken(_path: Path) -> list[Any]:
        raise TypeError("a bug, or a file nobody foresaw")

    monkeypatch.setattr(questions_page, "read_pairs", broken)
    assert page.import_pairs(tmp_path / "odd.jsonl") == 0
    assert page.status.text() == (
        "Could not import odd.jsonl: it could not be read (TypeError); is it a question file?"
    )


def test_file_names_and_replies_are_shown_as_text(page: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt

    assert page.status.textFormat() == Qt.TextFormat.PlainText
    assert page.add_model_reply('<img src="/etc/passwd"><b>no questions</b>') == 0
    assert "&lt;img src=&quot;/etc/passwd&quot;&gt;" in page.status.toolTip()

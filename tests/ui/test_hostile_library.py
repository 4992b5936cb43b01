"""The Models tab's library with hostile entries in the folder: the good models still show."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest


def test_a_symlink_loop_is_one_broken_row_beside_the_good_model(
    qtbot: Any, tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.ui.models import library_panel

    shutil.copy(tiny_gguf, tmp_path / "good.gguf")
    (tmp_path / "loop.gguf").symlink_to("loop.gguf")
    monkeypatch.setattr(library_panel, "library_folders", lambda: [tmp_path])
    panel = library_panel.LibraryPanel()  # its first scan starts at once
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: len(panel.entries) == 2, timeout=10_000)
    entries = {e.path.name: e for e in panel.entries}
    assert entries["good.gguf"].info is not None
    assert "loop.gguf is a link that goes round in a loop" in (entries["loop.gguf"].error or "")
    assert panel.status.text() == f"2 models, {_size(tiny_gguf)} · 1 broken"
    panel.select_path(tmp_path / "good.gguf")
    assert panel.chat_button.isEnabled()


def _size(path: Path) -> str:
    from desktop.core.formatting import format_bytes

    return format_bytes(path.stat().st_size)


def test_html_in_a_file_name_is_shown_as_text(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import Qt

    from desktop.ui.models import library_panel

    (tmp_path / "<img src='x.png'><b>bold.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(library_panel, "library_folders", lambda: [tmp_path])
    panel = library_panel.LibraryPanel()
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: len(panel.entries) == 1, timeout=10_000)
    records = panel.table.records
    for column in (0, records.columnCount() - 1):  # the name's and the problem's tooltips
        tip = records.data(records.index(0, column), Qt.ItemDataRole.ToolTipRole)
        assert "&lt;img src=&#x27;x.png&#x27;&gt;&lt;b&gt;bold.gguf" in tip
    assert panel.status.textFormat() == Qt.TextFormat.PlainText


def test_a_long_plain_message_keeps_its_tooltip_as_text(qtbot: Any) -> None:
    from desktop.ui.widgets.message_label import MessageLabel

    label = MessageLabel(plain=True)
    qtbot.addWidget(label)
    label.setText("⚠ Not imported: <img src='x.png'><b>" + "x" * 200 + ".gguf is empty")
    assert label.toolTip().startswith('<p style="white-space:pre-wrap">⚠ Not imported: &lt;img')

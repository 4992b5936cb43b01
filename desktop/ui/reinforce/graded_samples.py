"""Answers to the same held-out questions before RL and now, side by side, each with the
verifier's verdict (or the reward model's score) beside it — green for right, red for
wrong."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

RIGHT, WRONG, NEUTRAL = "#1B7F3B", "#B3261E", "#505050"


def samples_html(samples: list[dict[str, Any]]) -> str:
    if not samples:
        return "<i>No answers yet.</i>"
    parts = []
    for sample in samples:
        correct = sample.get("correct")
        colour = NEUTRAL if correct is None else RIGHT if correct else WRONG
        parts.append(
            f'<p style="margin:0 0 8px 0"><span style="color:{NEUTRAL}">'
            f"{html.escape(sample['prompt'])}</span><br>"
            f'<span style="font-family:monospace; white-space:pre-wrap">'
            f"{html.escape(sample['answer']) or '(nothing)'}</span><br>"
            f'<b style="color:{colour}">{html.escape(sample["label"])}</b></p>'
        )
    return "".join(parts)


class GradedSamples(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.before_title = QLabel("<b>Before RL</b>")
        self.now_title = QLabel("<b>Now</b>")
        self.before = QTextBrowser()
        self.now = QTextBrowser()
        self.before.setAccessibleName("Answers before RL, with verdicts")
        self.now.setAccessibleName("Answers now, with verdicts")
        for view in (self.before, self.now):
            view.setTabChangesFocus(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for title, view in ((self.before_title, self.before), (self.now_title, self.now)):
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(view, 1)
            row.addLayout(column, 1)

    def show_before(self, samples: list[dict[str, Any]], title: str = "Before RL") -> None:
        self.before_title.setText(f"<b>{html.escape(title)}</b>")
        self.before.setHtml(samples_html(samples))

    def show_now(self, samples: list[dict[str, Any]], title: str) -> None:
        self.now_title.setText(f"<b>{html.escape(title)}</b>")
        self.now.setHtml(samples_html(samples))

    def clear(self) -> None:
        self.before.clear()
        self.now.clear()
        self.now_title.setText("<b>Now</b>")

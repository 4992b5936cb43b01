"""'View prompt': the exact text the model receives, and where generation will stop."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core.prompt_builder import PromptPlan


class PromptDialog(QDialog):
    def __init__(self, plan: PromptPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Prompt sent to the model ({plan.mode})")
        stops = ", ".join(repr(s) for s in plan.stops) or "the model's end token"
        note = QLabel(
            f"Mode: <b>{plan.mode}</b>. Generation stops at: {stops}."
            + (f"<br>{plan.note}" if plan.note else "")
        )
        note.setWordWrap(True)
        self.text = QPlainTextEdit(plan.text)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(680, 500)

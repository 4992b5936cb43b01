"""One tool call in the transcript: the code the model wants to run (or the search it
asked for), the approval buttons, progress, and what came back. Everything the model
wrote or the code printed is shown as plain text."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from desktop.core.api.tool_calls import ToolCall
from desktop.core.tools.tool_results import ToolOutcome
from desktop.core.tools.tool_specs import RUN_PYTHON, argument_text

MAX_LINES_SHOWN = 14
STAGES = {
    "compiling": "Preparing the sandbox (first use: the interpreter is compiled, 10-25 s)…",
    "running": "Running in the sandbox…",
    "searching": "Searching…",
}


def _plain_view(text: str) -> QPlainTextEdit:
    view = QPlainTextEdit(text)
    view.setReadOnly(True)
    view.setTabChangesFocus(True)  # keyboard users leave with Tab
    view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    lines = min(MAX_LINES_SHOWN, max(1, text.rstrip("\n").count("\n") + 1))
    view.setFixedHeight(view.fontMetrics().lineSpacing() * lines + 20)  # no scroll bar for 1 line
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    return view


def _label(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if style:
        label.setStyleSheet(style)
    return label


class ToolCard(QFrame):
    decided = Signal(str, str)  # call id, "run" | "refuse" | "always"

    def __init__(self, call: ToolCall) -> None:
        super().__init__()
        self.call = call
        self.setObjectName("tool-card")
        self.setStyleSheet("QFrame#tool-card { background: #f7f7f2; border: 1px solid #ddd;"
                           " border-radius: 6px; }")  # fmt: skip
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        python = call.name == RUN_PYTHON
        what = argument_text(call) or call.arguments
        title = ("Python the model wants to run" if python
                 else f"The model searched ({call.name}): “{what}”")  # fmt: skip
        self.title = _label(title, "font-weight: bold;")
        layout.addWidget(self.title)
        self.code = _plain_view(what) if python else None
        if self.code is not None:
            self.code.setAccessibleName("Code the model wants to run")
            layout.addWidget(self.code)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.refuse_button = QPushButton("Don't run")
        self.always_button = QPushButton("Always allow in this conversation")
        for button, decision in ((self.run_button, "run"), (self.refuse_button, "refuse"),
                                 (self.always_button, "always")):  # fmt: skip
            button.clicked.connect(lambda _=False, d=decision: self._decide(d))
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.buttons = [self.run_button, self.refuse_button, self.always_button]
        layout.addLayout(buttons)
        self.status = _label("", "color: #555;")
        layout.addWidget(self.status)
        self.output: QPlainTextEdit | None = None
        self.error = _label("", "color: #a40000;")
        layout.addWidget(self.error)
        self.error.hide()
        self.show_buttons(False)

    def show_buttons(self, on: bool) -> None:
        for button in self.buttons:
            button.setVisible(on)
        if on:
            self.status.setText("Run this code? It runs in a sandbox: no network, no files "
                                "of yours, a few seconds of CPU.")  # fmt: skip

    def _decide(self, decision: str) -> None:
        self.show_buttons(False)
        self.decided.emit(self.call.id, decision)

    def set_stage(self, stage: str) -> None:
        self.status.setText(STAGES.get(stage, stage))

    def show_outcome(self, outcome: ToolOutcome | dict[str, Any]) -> None:
        """What came back (a live outcome, or one read from the store)."""
        data = outcome.stored() if isinstance(outcome, ToolOutcome) else outcome
        text = outcome.text if isinstance(outcome, ToolOutcome) else ""
        self.show_buttons(False)
        status, record = str(data.get("status", "")), data.get("record") or {}
        result = record.get("result")
        if data.get("name") == RUN_PYTHON and isinstance(result, dict):
            seconds = float(result.get("seconds") or 0)
            how = {"always": " · always allowed", "asked": " · approved"}.get(
                str(record.get("approval", "")), ""
            )
            self.title.setText("Python the model ran")
            self.status.setText(f"Ran in {seconds:.1f} s{how}")
            shown = (result.get("stdout") or "") + (result.get("stderr") or "")
            self._output(shown or "(nothing printed)")
            if result.get("error"):
                self._error(str(result["error"]))
        elif "hits" in record:
            hits = record["hits"]
            self.status.setText(f"{len(hits)} passage(s) from {record.get('summary', '')}")
            self._output("\n\n".join(f"[{h['id']}] {h['title']} ({h['source']})\n{h['text']}"
                                     for h in hits) or "No passage matched.")  # fmt: skip
        elif status == "refused":
            self.title.setText("Python the model wanted to run")
            self.status.setText("Not run: you did not allow it. The model was told so.")
        elif status == "not run":
            self.status.setText("Not run: the conversation was closed before it was approved.")
        else:
            self._error(str(record.get("error") or text or status))

    def _output(self, text: str) -> None:
        if self.output is None:
            self.output = _plain_view(text)
            self.output.setAccessibleName("What came back")
            self.output.setStyleSheet("background: #fff;")
            self._layout.insertWidget(self._layout.count() - 1, self.output)
        else:
            self.output.setPlainText(text)

    def _error(self, sentence: str) -> None:
        self.error.setText(f"⚠ {sentence}")
        self.error.show()

"""'View prompt': the exact text the model received for the latest reply (stored with it)
and the text it would receive for the next message, each with its token count and where
generation stops."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat.base_prompt import stop_rule
from desktop.core.chat.context_fit import FittedPrompt
from desktop.core.chat.prompt_builder import MODE_LABELS
from desktop.ui.widgets.plain_text import html_text

NOT_YET = "No reply in this conversation yet."
NOT_KEPT = "This reply's prompt was not kept (it was made before prompts were stored)."


def describe_prompt(record: dict[str, Any]) -> str:
    """One paragraph about a prompt: its mode, size, where the reply stops, what was cut."""
    mode = str(record.get("mode", ""))
    stops = [str(s) for s in record.get("stops", [])]
    if mode == "base":
        stop = stop_rule()
    elif stops:  # the model's own strings ("<|im_end|>" would vanish as an unknown tag)
        listed = html_text(", ".join(repr(s) for s in stops))
        stop = f"The reply stops at {listed} or the end token."
    else:
        stop = "The reply stops at the model's end token or the length limit."
    parts = [f"Mode: <b>{MODE_LABELS.get(mode, mode)}</b> · {int(record.get('tokens', 0)):,} "  # type: ignore[call-overload]
             f"tokens of a {int(record.get('context', 0)):,}-token context.", stop]  # fmt: skip
    if record.get("note"):
        parts.append(f"<i>{html_text(str(record['note']))}</i>")
    if record.get("tools"):
        how = ("the chat template's own tool format (its `tools`)"
               if record.get("tool_format") == "template"
               else "fenced blocks, taught in the system message")  # fmt: skip
        names = ", ".join(str(t) for t in record["tools"])
        parts.append(f"Tools offered: <b>{html_text(names)}</b>, called with {how}.")
    documents = record.get("documents")
    if isinstance(documents, dict):
        where = (
            " They are <span style='background:#fff3b0'>highlighted</span> below, "
            "before your question."
            if int(documents.get("start", -1)) >= 0
            else ""
        )
        parts.append(f"Documents: {html_text(str(documents.get('note', '')))}.{where}")
    return "<br>".join(parts)


def record_of(fitted: FittedPrompt) -> dict[str, Any]:
    from desktop.ui.chat.chat_session import prompt_record

    return prompt_record(fitted)


class PromptPage(QWidget):
    def __init__(self, waiting: str) -> None:
        super().__init__()
        self.about = QLabel(waiting)
        self.about.setTextFormat(Qt.TextFormat.RichText)  # describe_prompt escapes the rest
        self.about.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addWidget(self.text, 1)

    def show_record(self, record: dict[str, Any]) -> None:
        self.about.setText(describe_prompt(record))
        self.text.setPlainText(str(record.get("text", "")))
        documents = record.get("documents")
        if isinstance(documents, dict) and int(documents.get("start", -1)) >= 0:
            self.highlight(int(documents["start"]), int(documents["end"]))

    def highlight(self, start: int, end: int) -> None:
        """Mark where the documents are in the prompt, and scroll to them."""
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(start)
        cursor.setPosition(min(end, len(self.text.toPlainText())), QTextCursor.MoveMode.KeepAnchor)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format.setBackground(QColor("#fff3b0"))
        self.text.setExtraSelections([selection])
        at_start = QTextCursor(self.text.document())
        at_start.setPosition(start)
        self.text.setTextCursor(at_start)
        self.text.centerCursor()


class PromptDialog(QDialog):
    def __init__(
        self, last: dict[str, Any] | None, parent: QWidget | None = None, *, latest: bool = True
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prompts sent to the model")
        self.last = PromptPage(NOT_YET if latest else NOT_KEPT)
        self.next = PromptPage("Building the next prompt…")
        if last:
            self.last.show_record(last)
        self.pages = QTabWidget()
        self.pages.addTab(self.last, "Latest reply's prompt" if latest else "This reply's prompt")
        self.pages.addTab(self.next, "Next message's prompt")
        if not last:
            self.pages.setCurrentWidget(self.next)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(buttons)
        self.resize(720, 540)

    @Slot(object)
    def show_next(self, fitted: FittedPrompt) -> None:
        self.next.show_record(record_of(fitted))

    @Slot(str)
    def show_next_error(self, message: str) -> None:
        self.next.about.setText(f"⚠ {html_text(message)}")

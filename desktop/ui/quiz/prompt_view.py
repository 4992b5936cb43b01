"""The exact prompt a quiz question was asked with: its text as the model read it, how it
was put (a continuation, a question list, a chat), where the answer was cut off, and how
much of the article an open-book prompt held."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QShowEvent, QTextCursor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from desktop.core.quiz.interrogation import AskedPrompt
from desktop.core.quiz.quiz_prompts import FORM_LABELS
from desktop.ui.widgets.message_label import MessageLabel

MODE_TITLES = {"closed": "closed book", "open": "open book"}


def describe(prompt: AskedPrompt, mode: str) -> str:
    """One plain sentence or three about the prompt (shown as text, never as HTML)."""
    parts = [f"{MODE_TITLES.get(mode, mode).capitalize()}, asked as: {FORM_LABELS[prompt.form]}."]
    if prompt.tokens:
        parts.append(f"{prompt.tokens:,} tokens.")
    if prompt.stops == ("\n",):
        parts.append("The answer ends with its line ('\\n') or the model's end token.")
    elif prompt.stops:
        shown = ", ".join(repr(s) for s in prompt.stops)
        parts.append(f"The answer stops at {shown} or the model's end token.")
    else:
        parts.append("The answer stops at the model's end token or the length limit.")
    if mode == "open":
        parts.append(article_seen(prompt.article_share))
    return " ".join(parts)


def article_seen(share: float) -> str:
    if share >= 1.0:
        return "The model saw the whole article."
    return (f"The model saw {share:.0%} of the article: the whole did not fit its context, so "
            "the passages sharing the most words with the question were kept.")  # fmt: skip


class PromptView(QDialog):
    def __init__(
        self, question: str, mode: str, prompt: AskedPrompt, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Prompt: {question[:60]}")
        self.about = MessageLabel(describe(prompt, mode), plain=True)
        self.about.setWordWrap(True)
        self.text = QPlainTextEdit(prompt.text)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(720, 520)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # what is asked comes last (after the article, in open book): show that part
        self.text.moveCursor(QTextCursor.MoveOperation.End)
        self.text.ensureCursorVisible()

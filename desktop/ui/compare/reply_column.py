"""One side of Compare: which model, what it is doing, its reply as plain text, and the
figures that make two models comparable (time to first token, tokens/s)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from desktop.core.chat.chat_request import ChatReply
from desktop.core.chat.context_fit import FittedPrompt
from desktop.core.chat.generation import TokenEvent
from desktop.engine.protocol import LoadedModel
from desktop.ui.widgets.compact import compact
from desktop.ui.widgets.message_label import MessageLabel


def reply_figures(reply: ChatReply) -> str:
    stats = reply.stats
    return (
        f"first token {stats.time_to_first_token_s * 1000:,.0f} ms · "
        f"{stats.tokens_per_s:.1f} tokens/s · {stats.generated_tokens} tokens · "
        f"stopped: {stats.stop_reason}"
    )


class ReplyColumn(QWidget):
    def __init__(self, letter: str) -> None:
        super().__init__()
        self.letter = letter
        self.model = compact(QComboBox(), 18)
        self.model.setToolTip(f"Model {letter}")
        self.model.setAccessibleName(f"Model {letter}")
        self.state = MessageLabel("", plain=True)
        self.state.setStyleSheet("color: #555;")
        self.note = MessageLabel("", plain=True)  # what is sent where, for a remote model
        self.note.setStyleSheet("color: #17324d;")
        self.note.hide()
        self.reply = QPlainTextEdit()  # model text: plain, never markup
        self.reply.setReadOnly(True)
        self.reply.setAccessibleName(f"Model {letter}'s reply")
        self.figures = MessageLabel("", plain=True)
        self.figures.setStyleSheet("font-weight: bold;")
        self.reply_result: ChatReply | None = None
        self.error = ""
        self._loaded = ""
        row = QHBoxLayout()
        row.addWidget(QLabel(f"<b>{letter}</b>"))
        row.addWidget(self.model, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.state)
        layout.addWidget(self.note)
        layout.addWidget(self.reply, 1)
        layout.addWidget(self.figures)

    @property
    def path(self) -> str:
        data = self.model.currentData()
        return str(data) if data else ""

    @property
    def text(self) -> str:
        return self.reply.toPlainText()

    def begin(self, waiting: str) -> None:
        self.reply.clear()
        self.figures.setText("")
        self.state.setText(waiting)
        self.state.setStyleSheet("color: #555;")
        self.note.hide()
        self.reply_result, self.error = None, ""
        self._loaded = ""  # "loaded in 0.8 s · " when this round loaded the model

    def set_note(self, message: str) -> None:
        self.note.setText(message)
        self.note.show()

    def set_loading(self) -> None:
        self.state.setText("Loading the model…")

    def set_loaded(self, model: LoadedModel) -> None:
        self._loaded = f"loaded in {model.load_seconds:.1f} s · "
        self.state.setText(f"Loaded in {model.load_seconds:.1f} s · asking…")

    def set_prompt(self, fitted: FittedPrompt) -> None:
        note = f" · {fitted.note}" if fitted.note else ""
        asked = f"asked as {fitted.plan.label}, {fitted.prompt_tokens:,} prompt tokens{note}"
        said = self._loaded + asked
        self.state.setText(f"{said[:1].upper()}{said[1:]} · writing…")

    def add_tokens(self, batch: Sequence[TokenEvent]) -> None:
        cursor = QTextCursor(self.reply.document())  # at the end, whatever the person selects
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText("".join(e.text for e in batch))

    def finish(self, reply: ChatReply) -> None:
        self.reply_result = reply
        if reply.stats.stop_reason == "cancelled":
            self.state.setText("Stopped: what it wrote so far is kept.")
        else:
            self.state.setText(self.state.text().replace(" · writing…", ""))
        self.figures.setText(reply_figures(reply))

    def fail(self, message: str) -> None:
        self.error = message
        self.state.setText(f"⚠ {message}")
        self.state.setStyleSheet("color: #a40000;")

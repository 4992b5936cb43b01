"""Chat format: compose a conversation and see the exact prompt the tokenizer's model
would read — its own chat template for a GGUF, ChatML (or harmony) for OpenAI's
encodings — with the special tokens highlighted and counted."""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat.generation import ChatMessage, Role
from desktop.engine.tokenizer_pool import TokenizerPool, label
from desktop.ui.tokens.token_view import TokenView
from desktop.ui.tokens.tokenize_runner import EMPTY, Shown, TokenizeRunner, failure_text
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.plain_text import html_text

ROLES = ("system", "user", "assistant")
STARTER = [
    ("system", "You are a helpful assistant."),
    ("user", "How many r's are in raspberry?"),
    ("assistant", "There are three r's in raspberry."),
    ("user", "Are you sure?"),
]


class ChatPage(QWidget):
    def __init__(self, pool: TokenizerPool) -> None:
        super().__init__()
        self.pool = pool
        self.key = ""
        self.table = QTableWidget(0, 2)
        self.table.setAccessibleName("Chat messages to format")
        self.table.setHorizontalHeaderLabels(["Role", "Content"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.add_button = QPushButton("+ Message")
        self.remove_button = QPushButton("− Message")
        self.view = TokenView()
        self.view.setAccessibleName("The chat as the model sees it, in tokens")
        self.summary = MessageLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)  # our markup; file names escaped
        self.runner = TokenizeRunner(pool)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>The conversation</b>"))
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(buttons)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("<b>What the model reads</b> (special tokens dark)"))
        right_layout.addWidget(self.view, 1)
        right_layout.addWidget(self.summary)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([420, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        for role, content in STARTER:
            self.add_message(role, content)
        self.table.itemChanged.connect(lambda _item: self.refresh())
        self.add_button.clicked.connect(lambda: self.add_message("user", ""))
        self.remove_button.clicked.connect(self.remove_message)
        self.runner.finished.connect(self._show)
        self.runner.failed.connect(self._failed)

    def add_message(self, role: str, content: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        combo = QComboBox()
        combo.addItems(ROLES)
        combo.setCurrentText(role)
        combo.currentTextChanged.connect(lambda _t: self.refresh())
        self.table.setCellWidget(row, 0, combo)
        self.table.setItem(row, 1, QTableWidgetItem(content))
        self.refresh()

    def remove_message(self) -> None:
        if self.table.rowCount() > 1:
            self.table.removeRow(self.table.currentRow() if self.table.currentRow() >= 0
                                 else self.table.rowCount() - 1)  # fmt: skip
            self.refresh()

    def messages(self) -> list[ChatMessage]:
        out = []
        for row in range(self.table.rowCount()):
            combo = self.table.cellWidget(row, 0)
            item = self.table.item(row, 1)
            role = cast(Role, combo.currentText() if isinstance(combo, QComboBox) else "user")
            out.append(ChatMessage(role, item.text() if item else ""))
        return out

    def set_tokenizer(self, key: str) -> None:
        self.key = key
        self.refresh()

    def refresh(self) -> None:
        if not self.key:
            return
        pool, key, messages = self.pool, self.key, self.messages()
        self.runner.request_call(lambda: pool.chat(key, messages))

    @Slot(object)
    def _show(self, shown: Shown) -> None:
        tokenized = shown.tokenized
        self.view.set_display(shown.display)
        self.summary.setText(
            f"<b>{len(tokenized.ids):,}</b> tokens, of which <b>{tokenized.special_count}</b> "
            f"special; {len(tokenized.text):,} characters of prompt for "
            f"{sum(len(m.content) for m in self.messages()):,} characters of messages."
        )

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self.view.set_display(EMPTY.display())
        self.summary.setText(f"⚠ {html_text(failure_text(exc, label(self.key)))}")

    def shutdown(self) -> None:
        self.runner.shutdown()

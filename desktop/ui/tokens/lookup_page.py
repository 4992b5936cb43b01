"""Look-ups: a token id to its token, and text to its ids (which can be copied)."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.tokens.display import piece_text
from desktop.engine.tokenizer_pool import TokenizerPool, label
from desktop.ui.tokens.tokenize_runner import Shown, TokenizeRunner, failure_text
from desktop.ui.widgets.message_label import MessageLabel


class LookupPage(QWidget):
    def __init__(self, pool: TokenizerPool) -> None:
        super().__init__()
        self.pool = pool
        self.key = ""
        self.id_spin = QSpinBox()
        self.id_spin.setAccessibleName("Token id to look up")
        self.id_spin.setRange(0, 10_000_000)
        self.id_result = MessageLabel("")
        self.text_edit = QLineEdit()
        self.text_edit.setAccessibleName("Text to turn into ids")
        self.text_edit.setPlaceholderText("text to turn into ids")
        self.ids_result = QLineEdit()
        self.ids_result.setAccessibleName("The text's token ids")
        self.ids_result.setReadOnly(True)
        self.copy_button = QPushButton("Copy ids")
        self.runner = TokenizeRunner(pool)
        ids_row = QHBoxLayout()
        ids_row.addWidget(self.ids_result, 1)
        ids_row.addWidget(self.copy_button)
        form = QFormLayout()
        form.addRow("Token id:", self.id_spin)
        form.addRow("is the token:", self.id_result)
        form.addRow("Text:", self.text_edit)
        form.addRow("has the ids:", ids_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        self.id_spin.valueChanged.connect(lambda _v: self.look_up_id())
        self.text_edit.textChanged.connect(self._look_up_text)
        self.copy_button.clicked.connect(self.copy_ids)
        self.runner.finished.connect(self._show_ids)
        self.runner.failed.connect(
            lambda exc: self.ids_result.setText(f"⚠ {failure_text(exc, label(self.key))}")
        )

    def set_tokenizer(self, key: str) -> None:
        self.key = key
        self.look_up_id()
        self._look_up_text(self.text_edit.text())

    def look_up_id(self) -> None:
        if not self.key or not self.pool.is_loaded(self.key):
            return
        token_id = self.id_spin.value()
        size = self.pool.vocab_size(self.key)
        self.id_spin.setMaximum(max(0, size - 1))
        try:
            piece = self.pool.piece(self.key, token_id)
        except (KeyError, ValueError):
            self.id_result.setText(f"(no token {token_id} in a vocabulary of {size:,})")
            return
        shown = piece_text(piece)
        quoted = shown if shown.startswith("‹") else repr(shown)
        self.id_result.setText(f"{quoted}   ({piece.hex(' ')})")

    @Slot(str)
    def _look_up_text(self, text: str) -> None:
        if self.key:
            self.runner.request(self.key, text)

    @Slot(object)
    def _show_ids(self, shown: Shown) -> None:
        self.ids_result.setText(", ".join(str(i) for i in shown.tokenized.ids))
        self.look_up_id()

    def copy_ids(self) -> None:
        QGuiApplication.clipboard().setText(self.ids_result.text())

    def shutdown(self) -> None:
        self.runner.shutdown()

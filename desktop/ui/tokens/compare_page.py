"""The same text under two to four tokenizers, side by side, with their counts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.tokens.tokenized import Tokenized
from desktop.engine.tokenizer_pool import TokenizerPool, tiktoken_key
from desktop.ui.tokens.text_page import counts_text
from desktop.ui.tokens.token_view import TokenView
from desktop.ui.tokens.tokenize_runner import EMPTY, Shown, TokenizeRunner, failure_text
from desktop.ui.tokens.tokenizer_picker import TokenizerPicker

MAX_COLUMNS = 4
STARTING = ("cl100k_base", "o200k_base")


class CompareColumn(QWidget):
    def __init__(self, pool: TokenizerPool, key: str) -> None:
        super().__init__()
        self.picker = TokenizerPicker(pool, key)
        self.view = TokenView()
        self.view.setAccessibleName("The text in this tokenizer's tokens")
        self.counts = QLabel("")
        self.counts.setWordWrap(True)
        self.runner = TokenizeRunner(pool)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picker)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.counts)
        self.runner.finished.connect(self._show)
        self.runner.failed.connect(self._failed)
        self.tokenized: Tokenized | None = None
        self.others: list[CompareColumn] = []  # the page's other columns

    def settle_default(self) -> bool:
        """A default column whose encoding is not downloaded moves to one that works
        offline (and that no other column shows); True when it moved."""
        picker = self.picker
        if picker.chosen or picker.key() not in picker.unavailable:
            return False
        taken = {c.picker.key() for c in self.others}
        for key in picker.available_keys():
            if key not in taken:
                picker.set_key(key)
                return True
        return False

    def tokenize(self, text: str, show_whitespace: bool, parse_special: bool = False) -> None:
        self.runner.request(self.picker.key(), text, parse_special=parse_special,
                            show_whitespace=show_whitespace)  # fmt: skip

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self.view.set_display(EMPTY.display())
        self.counts.setText(f"⚠ {failure_text(exc, self.picker.label())}")

    @Slot(object)
    def _show(self, shown: Shown) -> None:
        self.tokenized = shown.tokenized
        self.view.set_display(shown.display)
        self.counts.setText(counts_text(shown.tokenized))


class ComparePage(QWidget):
    def __init__(self, pool: TokenizerPool) -> None:
        super().__init__()
        self.pool = pool
        self.columns: list[CompareColumn] = []
        self.splitter = QSplitter()
        self.add_button = QPushButton("+ Add a tokenizer")
        self.remove_button = QPushButton("− Remove the last")
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("The text of the Text page, under several tokenizers:"))
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.splitter, 1)
        self._text, self._whitespace, self._special = "", False, False
        self._checked = False
        for name in STARTING:
            self.add_column(tiktoken_key(name))
        self.add_button.clicked.connect(lambda: self.add_column(tiktoken_key("cl100k_base")))
        self.remove_button.clicked.connect(self.remove_column)

    def add_column(self, key: str) -> CompareColumn | None:
        if len(self.columns) >= MAX_COLUMNS:
            return None
        column = CompareColumn(self.pool, key)
        column.picker.picked.connect(lambda _key: column.tokenize(*self._request()))
        column.picker.availability_known.connect(column.settle_default)
        if self.isVisible():
            column.picker.check_availability()
        self.columns.append(column)
        self._introduce()
        self.splitter.addWidget(column)
        if self.isVisible():  # otherwise the page tokenizes when it is shown (set_text)
            column.tokenize(*self._request())
        self._update_buttons()
        return column

    def remove_column(self) -> None:
        if len(self.columns) > 2:
            column = self.columns.pop()
            column.runner.shutdown()
            column.setParent(None)
            column.deleteLater()
            self._introduce()
        self._update_buttons()

    def _introduce(self) -> None:
        for column in self.columns:
            column.others = [c for c in self.columns if c is not column]

    def showEvent(self, event: QShowEvent) -> None:
        """Which encodings are downloaded is asked when the page is first seen, not at
        startup (that would import tiktoken before the window appears)."""
        super().showEvent(event)
        if not self._checked:
            self._checked = True
            for column in self.columns:
                column.picker.check_availability()

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(len(self.columns) < MAX_COLUMNS)
        self.remove_button.setEnabled(len(self.columns) > 2)

    def set_text(self, text: str, show_whitespace: bool, parse_special: bool = False) -> None:
        self._text, self._whitespace, self._special = text, show_whitespace, parse_special
        for column in self.columns:
            column.tokenize(*self._request())

    def _request(self) -> tuple[str, bool, bool]:
        return self._text, self._whitespace, self._special

    def set_gguf_models(self, paths: list[Path]) -> None:
        for column in self.columns:
            column.picker.set_gguf_models(paths)
        for column in self.columns:
            column.settle_default()

    def shutdown(self) -> None:
        for column in self.columns:
            column.runner.shutdown()

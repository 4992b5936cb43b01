"""The data viewer: every example the run will learn from, and the selected one rendered
through the model's chat template, token by token — the assistant's tokens (the ones the
loss counts) in green, the rest greyed — with what was skipped and why."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.posttrain.chat_tokenizer import ChatTokenizer
from desktop.core.posttrain.mask_display import legend_html, masked_tokens_html
from desktop.core.posttrain.sft_data import PreparedChat
from desktop.ui.widgets.message_label import MessageLabel

MAX_LISTED = 2000  # a long file: the first ones are enough to look at


class DataView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.summary = MessageLabel("Pick a model and some data: the examples show here.")
        self.summary.setWordWrap(True)
        self.examples = QListWidget()
        self.examples.setAccessibleName("Examples to learn from")
        self.tokens = QTextBrowser()
        self.tokens.setAccessibleName("The selected example, token by token")
        self.tokens.setTabChangesFocus(True)
        self.tokens.setOpenLinks(False)
        self.legend = QLabel(legend_html())
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.skipped = MessageLabel("")
        self.skipped.setWordWrap(True)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.legend)
        right_layout.addWidget(self.tokens, 1)
        split = QSplitter()
        split.addWidget(self.examples)
        split.addWidget(right)
        split.setSizes([220, 480])
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(self.skipped)
        self._data: PreparedChat | None = None
        self._tokenizer: ChatTokenizer | None = None
        self.examples.currentRowChanged.connect(self._show)

    def show_data(self, data: PreparedChat, tokenizer: ChatTokenizer, note: str = "") -> None:
        self._data, self._tokenizer = data, tokenizer
        self.summary.setText(data.summary() + (f"; chat format: {note}" if note else "") + ".")
        self.examples.clear()
        train = set(map(id, data.train))
        for n, example in enumerate(data.examples[:MAX_LISTED]):
            held = "" if id(example) in train else " · held out"
            title = " ".join(example.title.split())[:60]
            item = QListWidgetItem(f"{n + 1}. {title}\n{len(example)} tokens, "
                                   f"{example.scored} learned{held}")  # fmt: skip
            self.examples.addItem(item)
        reasons = [str(b) for b in data.bad_lines[:5]]
        more = f" … and {len(data.bad_lines) - 5} more" if len(data.bad_lines) > 5 else ""
        self.skipped.setText(f"Skipped: {'; '.join(reasons)}{more}" if reasons else "")
        if self.examples.count():
            self.examples.setCurrentRow(0)

    def clear(self, message: str) -> None:
        self._data = None
        self.examples.clear()
        self.tokens.clear()
        self.skipped.setText("")
        self.summary.setText(message)

    @Slot(int)
    def _show(self, row: int) -> None:
        if self._data is None or self._tokenizer is None or row < 0:
            self.tokens.clear()
            return
        example = self._data.examples[row]
        pieces = [self._tokenizer.piece(int(t)) for t in example.ids]
        self.tokens.setHtml(masked_tokens_html(pieces, example.mask.tolist()))

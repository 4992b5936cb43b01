"""The main page: type text, see its tokens under it, with counts and hover details."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from desktop.core.tokens.display import TokenDisplay
from desktop.core.tokens.positions import TextPositions
from desktop.core.tokens.tokenized import Tokenized, count
from desktop.core.tokens.tokenizer_kinds import number_note
from desktop.ui.tokens.token_view import TokenView
from desktop.ui.widgets.message_label import MessageLabel

HOVER_HINT = "Hover over a token to see its id and bytes."


def counts_text(tokenized: Tokenized) -> str:
    c = count(tokenized.text, len(tokenized.ids))
    return (
        f"<b>{c.tokens:,}</b> tokens · {c.characters:,} characters · {c.words:,} words · "
        f"{c.tokens_per_word:.2f} tokens/word · {c.bytes_per_token:.2f} bytes/token"
    )


class TextPage(QWidget):
    text_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("Text to tokenize")
        self.editor.setPlaceholderText("Type or paste text: its tokens appear below.")
        self.view = TokenView()
        self.view.setAccessibleName("The text as tokens")
        self.counts = QLabel("")
        self.details = MessageLabel(HOVER_HINT)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.editor)
        splitter.addWidget(self.view)
        splitter.setSizes([240, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.counts)
        layout.addWidget(self.details)
        self.tokenized: Tokenized | None = None
        self.positions: TextPositions | None = None
        self.editor.textChanged.connect(self.text_changed.emit)
        self.editor.cursorPositionChanged.connect(self._on_cursor)
        self.view.token_hovered.connect(self._show_details)
        self.view.token_clicked.connect(self._select_in_editor)

    def text(self) -> str:
        return self.editor.toPlainText()

    def show_tokens(self, tokenized: Tokenized, display: TokenDisplay) -> None:
        self.tokenized = tokenized
        current = tokenized.text == self.text()  # not a result for older text
        self.positions = (
            TextPositions(tokenized.text, tokenized.data, tokenized.lengths) if current else None
        )
        self.view.set_display(display)
        note = number_note(tokenized)
        self.counts.setText(counts_text(tokenized) + (f"<br>{note}" if note else ""))
        self._on_cursor()

    def forget_hover(self) -> None:
        """Another tokenizer: the last hovered token was one of the old one's."""
        self.details.setText(HOVER_HINT)

    @Slot(int)
    def _show_details(self, index: int) -> None:
        if index < 0 or self.tokenized is None:
            return
        display = self.view.display()
        assert display is not None
        piece = self.view.token_bytes(index)
        start = int(display.byte_starts[index])
        self.details.setText(
            f"token #{index:,} · id <b>{display.ids[index]}</b> · bytes {piece.hex(' ')} · "
            f"at byte {start:,}" + (" · special" if display.special[index] else "")
        )

    @Slot()
    def _on_cursor(self) -> None:
        """The token under the editor's cursor is outlined in the view."""
        if self.positions is not None:
            index = self.positions.token_at(self.editor.textCursor().position())
            if index >= 0:
                self.view.highlight(index)

    @Slot(int)
    def _select_in_editor(self, index: int) -> None:
        """Clicking a token selects its characters in the editor, and outlines it."""
        span = self.positions.span(index) if self.positions is not None else None
        if span is not None:
            cursor = self.editor.textCursor()
            cursor.setPosition(span[0])
            cursor.setPosition(span[1], cursor.MoveMode.KeepAnchor)
            self.editor.blockSignals(True)  # not the cursor handler: it would re-pick
            self.editor.setTextCursor(cursor)
            self.editor.blockSignals(False)
        self.view.highlight(index)
        self._show_details(index)

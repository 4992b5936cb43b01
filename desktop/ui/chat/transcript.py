"""The scrolling list of messages of one conversation."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.ui.chat.message_widget import MessageWidget

EMPTY_HINT = (
    "<h3>Chat with a model on your own computer</h3>"
    "<p>Load a GGUF model above, then type a message below. Everything stays on this "
    "machine.</p><p>Try <b>Base-model mode</b> on a base model to see how a plain document "
    "completer becomes an assistant, and <b>Show token probabilities</b> to see how sure "
    "the model was of every token.</p>"
)


class TranscriptView(QScrollArea):
    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self._layout = QVBoxLayout(inner)
        self._layout.setSpacing(8)
        self._hint = QLabel(EMPTY_HINT)
        self._hint.setWordWrap(True)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setStyleSheet("color: #555; padding: 40px;")
        self._layout.addWidget(self._hint)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self.messages: list[MessageWidget] = []
        self.verticalScrollBar().rangeChanged.connect(self._follow)
        self._at_bottom = True
        self.verticalScrollBar().valueChanged.connect(self._remember_position)

    def clear(self) -> None:
        for widget in self.messages:
            widget.setParent(None)
            widget.deleteLater()
        self.messages = []
        self._hint.show()

    def add(self, widget: MessageWidget) -> MessageWidget:
        self._hint.hide()
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self.messages.append(widget)
        self._at_bottom = True
        return widget

    def remove_after(self, message_id: int, *, inclusive: bool = False) -> None:
        """Drop the widgets after (or from) a message: for edit-and-resend and regenerate."""
        ids = [w.message_id for w in self.messages]
        if message_id not in ids:
            return
        keep = ids.index(message_id) + (0 if inclusive else 1)
        for widget in self.messages[keep:]:
            widget.setParent(None)
            widget.deleteLater()
        self.messages = self.messages[:keep]

    def widget_for(self, message_id: int) -> MessageWidget | None:
        return next((w for w in self.messages if w.message_id == message_id), None)

    def _remember_position(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._at_bottom = value >= bar.maximum() - 24

    def _follow(self, _minimum: int, maximum: int) -> None:
        # Follow a streaming reply only if the user has not scrolled up to read.
        if self._at_bottom:
            self.verticalScrollBar().setValue(maximum)

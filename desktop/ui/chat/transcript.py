"""The scrolling list of messages of one conversation."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.ui.chat.message_widget import MessageWidget

BUILT_IN_LINK = "deepdive:built-in-model"


def empty_hint(*, model_loaded: bool) -> str:
    """What an empty conversation says: how to get a model (offline ways first), or, with
    one loaded, what to try."""
    if not model_loaded:
        return (
            "<h3>Chat with a model on your own computer</h3>"
            "<p>No model is loaded yet.</p>"
            f'<p><a href="{BUILT_IN_LINK}"><b>Try the built-in model</b></a> - a tiny one '
            "that ships with the app, post-trained to say who it is (ask it who made it). Its "
            "base model, <i>deepdive-starter</i>, only writes nonsense in the voice of its "
            "articles. Every tab works with both.</p>"
            "<p><b>Train your own</b> in the Train tab (a few minutes, no network), then press "
            "<i>Chat with it</i>.</p><p>Or <b>Open GGUF…</b> above for a file you have, or "
            "<b>download one</b> in the Models tab.</p><p>Everything stays on this machine.</p>"
        )
    return (
        "<h3>The model is ready</h3><p>Type a message below.</p><p>Try the <b>Prompt</b> "
        "modes on the right: <b>Raw text</b> shows what a base model really does (it "
        "continues your text), <b>Base model as assistant</b> turns it into an assistant with "
        "an identity and a few examples. <b>Show token probabilities</b> colours every "
        "token by how sure the model was.</p>"
    )


EMPTY_HINT = empty_hint(model_loaded=False)


class TranscriptView(QScrollArea):
    hint_link = Signal(str)  # a link of the empty conversation's hint was clicked

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self._layout = QVBoxLayout(inner)
        self._layout.setSpacing(8)
        self._hint = QLabel(EMPTY_HINT)
        self._hint.linkActivated.connect(self.hint_link.emit)
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

    def set_hint(self, html: str) -> None:
        self._hint.setText(html)

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

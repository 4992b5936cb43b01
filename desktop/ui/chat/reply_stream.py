"""The reply being streamed: tokens in, rendered every 50 ms, committed every 0.5 s.

Rendering on a timer (not per token) keeps the GUI smooth at any token rate; committing
on a timer bounds what a crash can lose to the last half second.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer

from desktop.core.conversations import ConversationStore
from desktop.core.generation import TokenEvent
from desktop.ui.chat.message_widget import MessageWidget

RENDER_MS = 50
MAX_RENDER_MS = 500
PERSIST_MS = 500


class ReplyStream(QObject):
    def __init__(self, store: ConversationStore, parent: QObject) -> None:
        super().__init__(parent)
        self._store = store
        self.widget: MessageWidget | None = None
        self.request_id = 0
        self._render_timer = QTimer(self, interval=RENDER_MS)
        self._render_timer.timeout.connect(self._render)
        self._persist_timer = QTimer(self, interval=PERSIST_MS)
        self._persist_timer.timeout.connect(self.persist)

    @property
    def active(self) -> bool:
        return self.widget is not None

    def begin(self, widget: MessageWidget, request_id: int) -> None:
        self.widget, self.request_id = widget, request_id
        widget.streaming = True
        widget.render()
        self._render_timer.start(RENDER_MS)
        self._persist_timer.start()

    def owns(self, request_id: int) -> bool:
        """Answers for an older request (after a hard stop, say) are not for this reply."""
        return self.widget is not None and request_id == self.request_id

    def add(self, batch: Sequence[TokenEvent]) -> None:
        if self.widget is not None:
            self.widget.append_events(batch)

    def persist(self) -> None:
        if self.widget is not None:
            self._store.update_reply(self.widget.message_id, self.widget.text)

    def end(self) -> MessageWidget:
        widget = self.widget
        assert widget is not None, "no reply is streaming"
        self.widget = None
        self._render_timer.stop()
        self._persist_timer.stop()
        widget.streaming = False
        widget.render()
        return widget

    def _render(self) -> None:
        if self.widget is None:
            return
        started = time.perf_counter()
        self.widget.render_if_changed()
        # A long Markdown reply takes longer to lay out: render less often, so drawing
        # never takes more than about a fifth of the GUI thread's time.
        spent_ms = (time.perf_counter() - started) * 1000
        self._render_timer.setInterval(int(min(MAX_RENDER_MS, max(RENDER_MS, 5 * spent_ms))))

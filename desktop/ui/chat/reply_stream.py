"""The reply being streamed, on screen: tokens in, rendered every 50 ms (or less often
when a long reply takes longer to lay out). Rendering on a timer (not per token) keeps the
GUI smooth at any token rate. (Saving it is ChatSession's job.)"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer

from desktop.core.chat.generation import TokenEvent
from desktop.ui.chat.message_widget import MessageWidget

RENDER_MS = 50
MAX_RENDER_MS = 500


class ReplyStream(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.widget: MessageWidget | None = None
        self._render_timer = QTimer(self, interval=RENDER_MS)
        self._render_timer.timeout.connect(self._render)

    @property
    def active(self) -> bool:
        return self.widget is not None

    def begin(self, widget: MessageWidget) -> None:
        self.widget = widget
        widget.streaming = True
        widget.render()
        self._render_timer.start(RENDER_MS)

    def add(self, batch: Sequence[TokenEvent]) -> None:
        if self.widget is not None:
            self.widget.append_events(batch)

    def end(self) -> MessageWidget:
        widget = self.widget
        assert widget is not None, "no reply is streaming"
        self.widget = None
        self._render_timer.stop()
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

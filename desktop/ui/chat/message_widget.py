"""One message in the transcript: its text, collapsed reasoning, actions and errors."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QToolTip,
    QVBoxLayout,
)

from desktop.core.generation import Role, TokenEvent
from desktop.core.reasoning import split_reasoning
from desktop.core.token_colours import token_colour, token_tooltip

ROLE_TITLES = {"user": "You", "assistant": "Assistant", "system": "System"}


class AutoHeightBrowser(QTextBrowser):
    """A read-only text view as tall as its document, so the transcript scrolls, not it."""

    def __init__(self) -> None:
        super().__init__()
        self.setOpenExternalLinks(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.viewport().installEventFilter(self)

    def _fit(self) -> None:
        height = int(self.document().size().height()) + 4
        if self.height() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event: QEvent) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.document().setTextWidth(self.viewport().width())
        self._fit()

    def tooltip_at(self, pos: QPoint) -> str:
        """The tooltip of the text under `pos` (token probabilities put one on each token)."""
        cursor = self.cursorForPosition(pos)
        return cursor.charFormat().toolTip()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self.tooltip_at(event.pos())
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)


class MessageWidget(QFrame):
    copy_requested = Signal()
    edit_requested = Signal(int)  # message id
    regenerate_requested = Signal(int)  # message id

    def __init__(self, message_id: int, role: Role, text: str = "") -> None:
        super().__init__()
        self.message_id = message_id
        self.role = role
        self.text = text
        self.events: list[TokenEvent] = []
        self.show_probabilities = False
        self.streaming = False
        self._dirty = False
        self._spans_shown = 0  # tokens already drawn as coloured spans
        self.setObjectName(f"message-{role}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "QFrame#message-user { background: #eef3fb; border-radius: 8px; }"
            "QFrame#message-assistant { background: #ffffff; border-radius: 8px; }"
        )
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        self.role_label = QLabel(f"<b>{ROLE_TITLES[role]}</b>")
        header.addWidget(self.role_label)
        header.addStretch(1)
        self.copy_button = self._tool("Copy", "Copy this message", self._copy)
        self.edit_button = self._tool(
            "Edit", "Edit and resend", lambda: self.edit_requested.emit(self.message_id)
        )
        self.regenerate_button = self._tool(
            "Regenerate",
            "Ask again for a new reply",
            lambda: self.regenerate_requested.emit(self.message_id),
        )
        for button in (self.copy_button, self.edit_button, self.regenerate_button):
            header.addWidget(button)
        self.edit_button.setVisible(role == "user")
        self.regenerate_button.setVisible(role == "assistant")
        layout.addLayout(header)

        self.reasoning_toggle = QToolButton()
        self.reasoning_toggle.setCheckable(True)
        self.reasoning_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.reasoning_toggle.setStyleSheet("QToolButton { border: none; color: #666; }")
        self.reasoning_toggle.toggled.connect(self._render)
        self.reasoning_view = AutoHeightBrowser()
        self.reasoning_view.setStyleSheet("color: #666; background: #f6f6f6;")
        layout.addWidget(self.reasoning_toggle)
        layout.addWidget(self.reasoning_view)

        self.body = AutoHeightBrowser()
        layout.addWidget(self.body)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #a40000;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.stats_label = QLabel()
        self.stats_label.setStyleSheet("color: #888; font-size: 11px;")
        self.stats_label.hide()
        layout.addWidget(self.stats_label)
        self._render()

    def _tool(self, text: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # ---- content -------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        self.text = text
        self._render()

    def append_events(self, batch: Sequence[TokenEvent]) -> None:
        """Streaming: add tokens without rendering (the tab renders on a timer)."""
        self.events.extend(batch)
        self.text += "".join(event.text for event in batch)
        self._dirty = True

    def render_if_changed(self) -> None:
        if self._dirty:
            self._render()

    def set_events(self, events: list[TokenEvent]) -> None:
        self.events = list(events)
        self._spans_shown = 0
        self.text = "".join(e.text for e in events)
        self._render()

    def set_show_probabilities(self, on: bool) -> None:
        self.show_probabilities = on
        self._spans_shown = 0
        self._render()

    def set_error(self, message: str) -> None:
        self.error_label.setText(f"⚠ {message}")
        self.error_label.setVisible(bool(message))

    def set_stats(self, summary: str) -> None:
        self.stats_label.setText(summary)
        self.stats_label.setVisible(bool(summary))

    def render(self) -> None:  # type: ignore[override]
        self._render()

    def _render(self) -> None:
        self._dirty = False
        split = split_reasoning(self.text) if self.role == "assistant" else None
        if split and (split.reasoning or split.thinking):
            words = len(split.reasoning.split())
            state = "Thinking…" if split.thinking else f"Reasoning ({words} words)"
            arrow = "▾" if self.reasoning_toggle.isChecked() else "▸"
            self.reasoning_toggle.setText(f"{arrow} {state}")
            self.reasoning_toggle.show()
            self.reasoning_view.setVisible(self.reasoning_toggle.isChecked())
            if self.reasoning_toggle.isChecked():
                self.reasoning_view.setPlainText(split.reasoning)
            answer = split.answer
        else:
            self.reasoning_toggle.hide()
            self.reasoning_view.hide()
            answer = self.text
        if self.show_probabilities and self.events and not (split and split.reasoning):
            self._render_token_spans()
            return
        self._spans_shown = 0
        if self.role == "user":
            self.body.setPlainText(answer)
        else:
            # lstrip: a base-model reply starts with the space after "Assistant:".
            self.body.setMarkdown(answer.lstrip() + (" ▍" if self.streaming else ""))

    def _render_token_spans(self) -> None:
        """One coloured span per token, with its alternatives as the tooltip.

        While a reply streams only the new tokens are added: redrawing thousands of spans
        every 50 ms would take the GUI thread's whole time on long replies.
        """
        if self._spans_shown == 0 or self._spans_shown > len(self.events):
            self.body.clear()
            self._spans_shown = 0
        cursor = QTextCursor(self.body.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        for index in range(self._spans_shown, len(self.events)):
            event = self.events[index]
            if event.text:
                span = QTextCharFormat()
                span.setBackground(QColor(token_colour(index, event.prob)))
                span.setToolTip(token_tooltip(event))
                cursor.insertText(event.text, span)
        self._spans_shown = len(self.events)

    def _copy(self) -> None:
        answer = split_reasoning(self.text).answer if self.role == "assistant" else self.text
        QGuiApplication.clipboard().setText(answer)
        self.copy_requested.emit()

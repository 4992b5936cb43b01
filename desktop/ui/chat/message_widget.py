"""One message in the transcript: its text, collapsed reasoning, actions and errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop.core.chat.generation import Role, TokenEvent
from desktop.core.chat.reasoning import split_reasoning
from desktop.core.chat.reply_rendering import (
    INLINE_PLAIN_MAX_CHARS,
    break_long_runs,
    plan_rendering,
)
from desktop.core.chat.token_colours import probability_underline, token_colour, token_tooltip
from desktop.ui.chat.reply_browser import ReplyBrowser
from desktop.ui.chat.scrolling_plain_view import ScrollingPlainView
from desktop.ui.chat.streaming_view import StreamingView
from desktop.ui.widgets.plain_text import html_text

UNDERLINE_STYLES = {
    "none": None,
    "dotted": QTextCharFormat.UnderlineStyle.DotLine,
    "wavy": QTextCharFormat.UnderlineStyle.WaveUnderline,
}
ROLE_TITLES = {"user": "You", "assistant": "Assistant", "system": "System"}
SPANS_PER_PASS = 800  # token spans drawn in one go (~15 ms)


def shown_reasoning(text: str) -> str:
    """The reasoning as the collapsible view shows it: its start, if it is too long to lay
    out at once (Copy copies the answer; the reasoning stays in the database)."""
    if len(text) <= INLINE_PLAIN_MAX_CHARS:
        return break_long_runs(text)
    shown = break_long_runs(text[:INLINE_PLAIN_MAX_CHARS])
    return f"{shown}\n\n[… the first {INLINE_PLAIN_MAX_CHARS:,} of {len(text):,} characters]"


class MessageWidget(QFrame):
    copy_requested = Signal()
    edit_requested = Signal(int)  # message id
    regenerate_requested = Signal(int)  # message id
    prompt_requested = Signal(int)  # message id: the prompt this reply came from

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
        self._spans_pending = False  # more spans are to be drawn on the next pass
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
        self.prompt_button = self._tool(
            "Prompt",
            "The exact text the model was given for this reply",
            lambda: self.prompt_requested.emit(self.message_id),
        )
        for button in (self.prompt_button, self.copy_button, self.edit_button,
                       self.regenerate_button):  # fmt: skip
            header.addWidget(button)
        self.edit_button.setVisible(role == "user")
        self.regenerate_button.setVisible(role == "assistant")
        self.prompt_button.setVisible(role == "assistant")
        layout.addLayout(header)

        self.reasoning_toggle = QToolButton()
        self.reasoning_toggle.setCheckable(True)
        self.reasoning_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.reasoning_toggle.setStyleSheet("QToolButton { border: none; color: #666; }")
        self.reasoning_toggle.toggled.connect(self._render)
        self.reasoning_view = ReplyBrowser()
        self.reasoning_view.setStyleSheet("color: #666; background: #f6f6f6;")
        layout.addWidget(self.reasoning_toggle)
        layout.addWidget(self.reasoning_view)

        self.body = ReplyBrowser()
        layout.addWidget(self.body)
        self.streaming_view = StreamingView()  # while a reply streams, instead of the body
        self.scrolling_view = ScrollingPlainView()  # a message too long for the body
        self.render_note = QLabel()  # why a reply is not formatted
        self.render_note.setStyleSheet("color: #8a6d00; font-size: 11px;")
        self.render_note.setWordWrap(True)
        for part in (self.streaming_view, self.scrolling_view, self.render_note):
            part.hide()
            layout.addWidget(part)
        self.render_mode = "markdown" if role != "user" else "plain"
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)  # model and engine words
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #a40000;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.tool_area = QVBoxLayout()  # the cards of the tools this reply called
        layout.addLayout(self.tool_area)
        self.sources_label = QLabel()  # the passages the answer cites, each a link
        self.sources_label.setWordWrap(True)
        self.sources_label.setTextFormat(Qt.TextFormat.RichText)  # our links, titles escaped
        self.sources_label.linkActivated.connect(self._show_source)
        self.sources_label.hide()
        layout.addWidget(self.sources_label)
        self.sources: dict[str, dict[str, Any]] = {}
        self.stats_label = QLabel()
        self.stats_label.setTextFormat(Qt.TextFormat.PlainText)
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
        if on == self.show_probabilities:
            return  # nothing to redraw
        self.show_probabilities = on
        self._spans_shown = 0
        self._render()

    def set_error(self, message: str) -> None:
        self.error_label.setText(f"⚠ {message}")
        self.error_label.setVisible(bool(message))

    def add_tool_card(self, card: QWidget) -> None:
        self.tool_area.addWidget(card)

    def set_sources(self, passages: Sequence[dict[str, Any]]) -> None:
        """The cited passages under the answer: id and title; a click shows the text."""
        self.sources = {str(p.get("id")): dict(p) for p in passages}
        links = " · ".join(
            f'<a href="{html_text(key)}">[{html_text(key)}] {html_text(str(p.get("title")))}</a>'
            for key, p in self.sources.items()
        )
        self.sources_label.setText(f"Sources: {links}" if links else "")
        self.sources_label.setVisible(bool(links))

    def _show_source(self, key: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        passage = self.sources.get(key)
        if passage is not None:
            where = f"{passage.get('title', '')} · {passage.get('source', '')}"
            box = QMessageBox(QMessageBox.Icon.NoIcon, f"[{key}]",
                              f"{where}\n\n{passage.get('text', '')}", parent=self)  # fmt: skip
            box.setTextFormat(Qt.TextFormat.PlainText)  # document text, shown as written
            box.open()

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
                self.reasoning_view.setPlainText(shown_reasoning(split.reasoning))
            answer = split.answer
        else:
            self.reasoning_toggle.hide()
            self.reasoning_view.hide()
            answer = self.text
        if self.show_probabilities and self.events and not (split and split.reasoning):
            self._show_only(self.body, note="")
            self._render_token_spans()
            return
        self._spans_shown = 0
        if self.role == "assistant":
            answer = answer.lstrip()  # a base-model reply starts with the space after "Assistant:"
        if self.streaming and self.role != "user":
            self._show_only(self.streaming_view, note="")
            self.streaming_view.show_text(answer, cursor=" ▍")
            self.render_mode = "streaming"
            return
        self.streaming_view.clear()
        plan = plan_rendering(answer, markdown=self.role != "user")
        self.render_mode = plan.mode
        if plan.mode == "scrolling_plain":
            self._show_only(self.scrolling_view, plan.note)
            self.scrolling_view.setPlainText(plan.text)
            self.body.clear()
        else:
            self._show_only(self.body, plan.note)
            self.scrolling_view.clear()
            if plan.mode == "markdown":
                self.body.set_markdown(plan.text)
            else:
                self.body.setPlainText(plan.text)

    def _show_only(self, view: QWidget, note: str) -> None:
        """One of the three views of the text is visible (the others take no space), with
        the note that says why a reply is not formatted, if it is not."""
        for other in (self.body, self.streaming_view, self.scrolling_view):
            other.setVisible(other is view)
        self.render_note.setText(note)
        self.render_note.setVisible(bool(note))

    def _render_token_spans(self) -> None:
        """One coloured span per token, with its alternatives as the tooltip.

        While a reply streams only the new tokens are added: redrawing thousands of spans
        every 50 ms would take the GUI thread's whole time on long replies. A long stored
        reply is drawn SPANS_PER_PASS tokens at a time, the rest on the next turns of the
        event loop, so no single pass stalls the window (4,000 spans at once: ~90 ms).
        """
        self._spans_pending = False
        if self._spans_shown == 0 or self._spans_shown > len(self.events):
            self.body.clear()
            self._spans_shown = 0
        cursor = QTextCursor(self.body.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        end = min(len(self.events), self._spans_shown + SPANS_PER_PASS)
        cursor.beginEditBlock()  # one layout update for the pass, not one per span
        for index in range(self._spans_shown, end):
            event = self.events[index]
            if event.text:
                span = QTextCharFormat()
                span.setBackground(QColor(token_colour(index, event.prob)))
                underline = UNDERLINE_STYLES[probability_underline(event.prob)]
                if underline is not None:
                    span.setUnderlineStyle(underline)
                span.setToolTip(token_tooltip(event))
                cursor.insertText(event.text, span)
        cursor.endEditBlock()
        self._spans_shown = end
        if end < len(self.events):
            self._spans_pending = True
            QTimer.singleShot(0, self, self._more_spans)  # dropped if the widget goes

    def _more_spans(self) -> None:
        showing_spans = self.show_probabilities and self.events and self._spans_shown > 0
        if self._spans_pending and showing_spans:
            self._render_token_spans()

    def _copy(self) -> None:
        answer = split_reasoning(self.text).answer if self.role == "assistant" else self.text
        QGuiApplication.clipboard().setText(answer)
        self.copy_requested.emit()

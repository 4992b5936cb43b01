"""The Chat tab's message widgets and what their buttons do.

Regenerate (a reply) and edit-and-resend (a question) both rewind the conversation: the
messages after it are dropped, from the store first and then from the transcript, and a
new reply is asked of the session.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from desktop.core.chat.token_colours import events_from_json
from desktop.core.storage.conversation_records import StoredMessage
from desktop.ui.chat.chat_session import ChatSession
from desktop.ui.chat.message_widget import MessageWidget
from desktop.ui.chat.transcript import TranscriptView


def stored_note(message: StoredMessage) -> str:
    """The line under a stored reply: its figures, its prompt mode and what was left out."""
    stats = message.stats or {}
    prompt = stats.get("prompt") or {}
    parts = []
    if prompt.get("mode"):
        from desktop.core.chat.prompt_builder import MODE_LABELS

        parts.append(MODE_LABELS.get(prompt["mode"], str(prompt["mode"])))
    if prompt.get("note"):
        parts.append(str(prompt["note"]))
    if "generated_tokens" in stats:
        parts.append(
            f"{stats['generated_tokens']} tokens · {float(stats.get('tokens_per_s', 0)):.1f} "
            f"tok/s · stopped: {stats.get('stop_reason', '?')}"
        )
    return " · ".join(parts)


class MessageActions(QObject):
    prompt_requested = Signal(int)  # a reply's message id: show the prompt it came from

    def __init__(
        self,
        session: ChatSession,
        transcript: TranscriptView,
        can_ask: Callable[[], bool],
        show_probabilities: Callable[[], bool],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.transcript = transcript
        self.can_ask = can_ask  # says why not, when it cannot (no model, the quiz has it)
        self.show_probabilities = show_probabilities
        self._parent = parent

    def add(self, message_id: int, role: str) -> MessageWidget:
        """A new message widget at the end of the transcript, its buttons connected."""
        widget = MessageWidget(message_id, role)  # type: ignore[arg-type]
        widget.set_show_probabilities(self.show_probabilities())
        widget.edit_requested.connect(self.edit_message)
        widget.regenerate_requested.connect(self.regenerate)
        widget.prompt_requested.connect(self.prompt_requested)
        return self.transcript.add(widget)

    def add_stored(self, message: StoredMessage) -> MessageWidget:
        widget = self.add(message.id, message.role)
        if message.token_probs:
            widget.set_events(events_from_json(message.token_probs))
        else:
            widget.set_text(message.content)
        if message.status == "partial":
            widget.set_error("This reply was interrupted (the app or the model stopped).")
        elif message.status == "error" and message.stats and message.stats.get("error"):
            widget.set_error(str(message.stats["error"]))
        elif message.role == "assistant" and (note := stored_note(message)):
            widget.set_stats(note)
        return widget

    def _stored(self, message_id: int) -> StoredMessage | None:
        assert self.session.conversation_id is not None
        messages = self.session.store.messages(self.session.conversation_id)
        return next((m for m in messages if m.id == message_id), None)

    @Slot(int)
    def regenerate(self, message_id: int, confirm: bool = True) -> None:
        """Replace an assistant reply (and everything after it) with a new one."""
        message = self._stored(message_id)
        if message is None or not self.can_ask():
            return
        conversation = self.session.conversation_id
        assert conversation is not None
        later = len(self.session.store.messages(conversation)) - message.position - 1
        if confirm and later > 0 and not self._confirm_dropping(later):
            return
        self.session.store.truncate_after(conversation, message.position - 1)
        self.transcript.remove_after(message_id, inclusive=True)
        self.session.start_reply()

    @Slot(int)
    def edit_message(self, message_id: int, new_text: str | None = None) -> None:
        """Edit a user message and resend it: later messages are replaced."""
        message = self._stored(message_id)
        if message is None or not self.can_ask():
            return
        if new_text is None:
            new_text, ok = QInputDialog.getMultiLineText(
                self._parent, "Edit message", "Edit and resend:", message.content
            )
            if not ok:
                return
        if not new_text.strip():
            return
        self.session.store.edit_and_truncate(message_id, new_text)
        self.transcript.remove_after(message_id)
        widget = self.transcript.widget_for(message_id)
        if widget is not None:
            widget.set_text(new_text)
        self.session.start_reply()

    def _confirm_dropping(self, count: int) -> bool:
        answer = QMessageBox.question(
            self._parent,
            "Regenerate",
            f"Regenerating this reply removes the {count} message(s) after it. Go on?",
        )
        return answer == QMessageBox.StandardButton.Yes

"""The Chat tab's message widgets and what their buttons do.

Regenerate (a reply) and edit-and-resend (a question) both rewind the conversation: the
messages after it are dropped, from the store first and then from the transcript, and a
new reply is started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QInputDialog, QMessageBox

from desktop.core.conversation_records import StoredMessage
from desktop.core.token_colours import events_from_json
from desktop.ui.chat.message_widget import MessageWidget

if TYPE_CHECKING:
    from desktop.ui.chat.chat_tab import ChatTab


class MessageActions(QObject):
    def __init__(self, tab: ChatTab) -> None:
        super().__init__(tab)
        self.tab = tab  # the open conversation, its store and transcript are the tab's

    def add(self, message_id: int, role: str) -> MessageWidget:
        """A new message widget at the end of the transcript, its buttons connected."""
        widget = MessageWidget(message_id, role)  # type: ignore[arg-type]
        widget.set_show_probabilities(self.tab.panel.show_probabilities.isChecked())
        widget.edit_requested.connect(self.edit_message)
        widget.regenerate_requested.connect(self.regenerate)
        return self.tab.transcript.add(widget)

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
        return widget

    def _stored(self, message_id: int) -> StoredMessage | None:
        assert self.tab.conversation_id is not None
        return next(
            (m for m in self.tab.store.messages(self.tab.conversation_id) if m.id == message_id),
            None,
        )

    def _lent(self) -> bool:
        """Another tab (the quiz) has the model: a reply now would wait behind it, and the
        Chat tab's Stop would stop the quiz's request."""
        if self.tab.lent_to:
            self.tab.status.setText(self.tab.lent_to)
            return True
        return False

    @Slot(int)
    def regenerate(self, message_id: int, confirm: bool = True) -> None:
        """Replace an assistant reply (and everything after it) with a new one."""
        tab = self.tab
        message = self._stored(message_id)
        if tab.busy or message is None or tab.model is None or self._lent():
            return
        assert tab.conversation_id is not None
        later = len(tab.store.messages(tab.conversation_id)) - message.position - 1
        if confirm and later > 0 and not self._confirm_dropping(later):
            return
        tab.store.truncate_after(tab.conversation_id, message.position - 1)
        tab.transcript.remove_after(message_id, inclusive=True)
        tab.replies.start()

    @Slot(int)
    def edit_message(self, message_id: int, new_text: str | None = None) -> None:
        """Edit a user message and resend it: later messages are replaced."""
        tab = self.tab
        message = self._stored(message_id)
        if tab.busy or message is None or self._lent():
            return
        if new_text is None:
            new_text, ok = QInputDialog.getMultiLineText(
                tab, "Edit message", "Edit and resend:", message.content
            )
            if not ok:
                return
        if not new_text.strip() or tab.model is None:
            return
        tab.store.edit_and_truncate(message_id, new_text)
        tab.transcript.remove_after(message_id)
        widget = tab.transcript.widget_for(message_id)
        if widget is not None:
            widget.set_text(new_text)
        tab.replies.start()

    def _confirm_dropping(self, count: int) -> bool:
        answer = QMessageBox.question(
            self.tab,
            "Regenerate",
            f"Regenerating this reply removes the {count} message(s) after it. Go on?",
        )
        return answer == QMessageBox.StandardButton.Yes

"""The transcript's tool cards, kept in step with the session's tool steps: a card per call
under the reply that made it, its buttons wired to `ToolSteps.decide`, its progress and
result shown as they come — and, for a stored conversation, rebuilt from the store."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot

from desktop.core.api.tool_calls import ToolCall
from desktop.core.storage.conversation_records import StoredMessage
from desktop.core.tools.tool_results import ToolOutcome
from desktop.ui.chat.chat_session import ChatSession
from desktop.ui.chat.message_widget import MessageWidget
from desktop.ui.chat.tool_card import ToolCard
from desktop.ui.chat.transcript import TranscriptView


class ToolCards(QObject):
    def __init__(self, session: ChatSession, transcript: TranscriptView,
                 say: Callable[[str], None]) -> None:  # fmt: skip
        super().__init__(session)
        self.session = session
        self.transcript = transcript
        self.say = say  # the status line
        self.cards: dict[str, ToolCard] = {}
        steps = session.tool_steps
        session.tool_calls.connect(self._on_calls)
        steps.approval_needed.connect(self._on_approval_needed)
        steps.stage.connect(self._on_stage)
        steps.outcome.connect(self._on_outcome)

    def clear(self) -> None:
        self.cards = {}  # the widgets go with the transcript's

    def add_cards(self, widget: MessageWidget, calls: tuple[ToolCall, ...]) -> None:
        for call in calls:
            card = ToolCard(call)
            card.decided.connect(self.session.tool_steps.decide)
            widget.add_tool_card(card)
            self.cards[call.id] = card

    def show_stored(self, message: StoredMessage, widget: MessageWidget | None) -> None:
        """A stored reply's calls (their cards), or a stored result (into its card)."""
        if message.role == "tool" and message.tool:
            card = self.cards.pop(str(message.tool.get("call_id", "")), None)
            if card is not None:
                card.show_outcome(message.tool)
        elif widget is not None and message.tool_calls:
            widget.set_text(message.shown_text)
            self.add_cards(widget, message.tool_calls)

    def close_unanswered(self) -> None:
        """After a stored conversation is shown: calls that never got a result."""
        for card in self.cards.values():
            card.show_outcome({"status": "not run"})
        self.cards = {}

    @Slot(int, object)
    def _on_calls(self, message_id: int, calls: tuple[ToolCall, ...]) -> None:
        widget = self.transcript.widget_for(message_id)
        if widget is None:
            return
        conversation = self.session.conversation_id
        stored = next((m for m in self.session.store.messages(conversation or 0)
                       if m.id == message_id), None)  # fmt: skip
        if stored is not None:
            widget.set_text(stored.shown_text)
        self.add_cards(widget, calls)

    @Slot(str)
    def _on_approval_needed(self, call_id: str) -> None:
        card = self.cards.get(call_id)
        if card is not None:
            card.show_buttons(True)
            self.transcript.ensureWidgetVisible(card)
        self.say("The model wants to run code: Run or Don't run, in the conversation above.")

    @Slot(str, str)
    def _on_stage(self, call_id: str, stage: str) -> None:
        card = self.cards.get(call_id)
        if card is not None:
            card.set_stage(stage)
            self.say(card.status.text())

    @Slot(str, object)
    def _on_outcome(self, call_id: str, outcome: ToolOutcome) -> None:
        card = self.cards.pop(call_id, None)
        if card is not None:
            card.show_outcome(outcome)
        self.say("The result goes back to the model…")

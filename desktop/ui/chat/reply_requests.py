"""The Chat tab's replies: asking the engine for one and handling its answers.

One reply at a time: while it streams, the composer offers Stop, the model bar is locked
(a new model would cut the reply off) and so is the conversation in the sidebar. The
reply row is in the store before the request goes out, so the end (finished, failed, or
the app closing) only has to fill it in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.generation import GenerationRequest, GenerationStats, TokenEvent
from desktop.core.prompt_builder import PromptPlan
from desktop.core.token_colours import events_to_json
from desktop.ui.chat.message_widget import MessageWidget
from desktop.ui.chat.reply_stream import ReplyStream

if TYPE_CHECKING:
    from desktop.ui.chat.chat_tab import ChatTab

TOP_ALTERNATIVES = 5


class ReplyRequests(QObject):
    finished = Signal(object)  # GenerationStats, or an error message (str)

    def __init__(self, tab: ChatTab, request_ids: Iterator[int]) -> None:
        super().__init__(tab)
        self.tab = tab  # the open conversation, its widgets and store are the tab's
        self.request_ids = request_ids  # shared with context counts: answers never collide
        self.stream = ReplyStream(tab.store, self)
        self.last_prompt: PromptPlan | None = None
        # Engine signals arrive from the engine's thread: every receiver here is a Slot.
        tab.engine.tokens.connect(self._on_tokens)
        tab.engine.finished.connect(self._on_finished)
        tab.engine.failed.connect(self._on_failed)

    def start(self) -> None:
        """Ask for a reply to the open conversation as it is stored now."""
        tab = self.tab
        assert tab.conversation_id is not None
        plan = tab.prompt_for(tab.store.chat_messages(tab.conversation_id))
        self.last_prompt = plan
        stored = tab.store.start_reply(tab.conversation_id)
        request_id = next(self.request_ids)
        self.stream.begin(tab.message_actions.add(stored.id, "assistant"), request_id)
        probabilities = tab.panel.show_probabilities.isChecked()
        request = GenerationRequest(
            request_id=request_id,
            prompt=plan.text,
            sampling=tab.panel.sampling(),
            stop=plan.stops,
            top_alternatives=TOP_ALTERNATIVES if probabilities else 0,
        )
        tab.composer.set_busy(True)
        tab.model_bar.setEnabled(False)  # a new model mid-reply would cut it off
        tab.sidebar.locked_id = tab.conversation_id
        tab.status.setText(f"Generating… ({plan.mode}{'; ' + plan.note if plan.note else ''})")
        tab.engine.generate_requested.emit(request)

    @Slot(int, object)
    def _on_tokens(self, request_id: int, batch: Sequence[TokenEvent]) -> None:
        if self.stream.owns(request_id):
            self.stream.add(batch)

    @Slot(object)
    def _on_finished(self, stats: GenerationStats) -> None:
        if not self.stream.owns(stats.request_id):
            return
        reply = self._end()
        probs = (
            events_to_json(reply.events)
            if reply.events[:1] and reply.events[0].alternatives
            else None
        )
        self.tab.store.finish_reply(reply.message_id, reply.text, "complete", stats, probs)
        reply.set_stats(stats.summary())
        self.tab.model_loader.show_context(stats.prompt_tokens + stats.generated_tokens)
        self.tab.status.setText(
            f"First token "
            f"{stats.time_to_first_token_s * 1000:.0f} ms · {stats.tokens_per_s:.1f} tokens/s"
            f" · stopped: {stats.stop_reason}"
        )
        self.finished.emit(stats)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if not self.stream.owns(request_id):  # an earlier request's, or a context count's
            self.tab.status.setText(f"⚠ {message}")
            return
        reply = self._end()
        self.tab.store.finish_reply(reply.message_id, reply.text, "error", {"error": message})
        reply.set_error(message)
        self.tab.status.setText(f"⚠ {message}")
        self.finished.emit(message)

    def save_partial(self) -> None:
        """The app is closing mid-reply: keep what came so far, as a stopped reply."""
        if self.stream.widget is None:
            return
        self.tab.engine.stop()
        reply = self._end()
        stats = {"stop_reason": "cancelled", "note": "the app was closed"}
        self.tab.store.finish_reply(reply.message_id, reply.text, "complete", stats)

    def _end(self) -> MessageWidget:
        tab = self.tab
        tab.composer.set_busy(False)
        tab.model_bar.setEnabled(tab.lent_to is None)
        tab.sidebar.locked_id = None
        return self.stream.end()

"""The Chat tab: wires the sidebar, model bar, transcript, composer and settings together.

The flow of one reply: the user's message is committed to SQLite, the prompt is built by
`core.prompt_builder`, the engine streams tokens, a 50 ms timer renders them and a 0.5 s
timer commits the partial reply, so a crash loses at most the last half second.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.conversations import ConversationStore, StoredMessage
from desktop.core.generation import ChatMessage, GenerationRequest, GenerationStats, TokenEvent
from desktop.core.model_info import ModelInfo
from desktop.core.prompt_builder import PromptPlan, TemplateInfo, build_prompt
from desktop.core.token_colours import events_from_json, events_to_json, legend_html
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.protocol import LoadedModel
from desktop.ui.app_settings import AppSettings
from desktop.ui.chat.composer import Composer
from desktop.ui.chat.conversation_list import ConversationSidebar
from desktop.ui.chat.message_widget import MessageWidget
from desktop.ui.chat.model_bar import ModelBar
from desktop.ui.chat.prompt_dialog import PromptDialog
from desktop.ui.chat.reply_stream import ReplyStream
from desktop.ui.chat.settings_panel import SettingsPanel
from desktop.ui.chat.transcript import TranscriptView

TOP_ALTERNATIVES = 5


class ChatTab(QWidget):
    reply_finished = Signal(object)  # GenerationStats, or an error message (str)

    def __init__(self, engine: InferenceEngine, store: ConversationStore) -> None:
        super().__init__()
        self.engine = engine
        self.store = store
        self.settings = AppSettings()
        self._request_ids = itertools.count(1)
        self.conversation_id: int | None = None
        self.model: LoadedModel | None = None
        self.lent_to: str | None = None  # why another tab has the model now
        self.model_info: ModelInfo | None = None
        self.last_prompt: PromptPlan | None = None
        self.context_used = 0
        self._count_request = -1

        self.sidebar = ConversationSidebar(store)
        self.model_bar = ModelBar(self.settings.get("chat/recent_models"))
        self.model_bar.refresh(select=self.settings.get("chat/last_model") or None)
        self.transcript = TranscriptView()
        self.composer = Composer()
        self.status = QLabel("")
        self.status.setStyleSheet("color: #555;")
        self.panel = SettingsPanel(self.settings, store.presets)

        center = QWidget()
        column = QVBoxLayout(center)
        column.addWidget(self.model_bar)
        column.addWidget(self.transcript, 1)
        self.legend = QLabel(legend_html())
        self.legend.setVisible(self.panel.show_probabilities.isChecked())
        column.addWidget(self.legend)
        column.addWidget(self.composer)
        self.context_label = QLabel("")
        self.context_label.setToolTip("Tokens of the conversation, counted by the model itself")
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.context_label)
        column.addLayout(status_row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(center)
        splitter.addWidget(self.panel)
        splitter.setSizes([220, 760, 300])
        splitter.setStretchFactor(1, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)

        self.stream = ReplyStream(store, self)

        self._connect()
        QShortcut(QKeySequence.StandardKey.New, self).activated.connect(self._new_chat_clicked)
        QShortcut(QKeySequence("Escape"), self).activated.connect(self.stop)
        conversations = store.list_conversations()
        self.open_conversation(conversations[0].id if conversations else self.new_chat())

    def _connect(self) -> None:
        e = self.engine
        e.load_started.connect(self._on_load_started)
        e.load_progress.connect(self.model_bar.set_progress)
        e.load_warning.connect(self._on_load_warning)
        e.model_loaded.connect(self._on_model_loaded)
        e.load_failed.connect(self._on_load_failed)
        e.tokens.connect(self._on_tokens)
        e.finished.connect(self._on_finished)
        e.failed.connect(self._on_failed)
        e.model_crashed.connect(self._on_crashed)
        e.tokenized.connect(self._on_tokenized)
        self.model_bar.load_requested.connect(self.load_model)
        self.model_bar.stop_load_requested.connect(self.stop)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self.sidebar.new_requested.connect(self._new_chat_clicked)
        self.sidebar.selected.connect(self.open_conversation)
        self.sidebar.deleted.connect(self._on_deleted)
        self.panel.system_prompt_changed.connect(self._on_system_prompt)
        self.panel.view_prompt_requested.connect(self.show_prompt_dialog)
        self.panel.probabilities_toggled.connect(self._on_probabilities)

    # ---- conversations -------------------------------------------------------------

    @Slot()
    def _new_chat_clicked(self) -> None:
        if not self.busy:
            self.open_conversation(self.new_chat())
            self.composer.edit.setFocus()

    def new_chat(self) -> int:
        system = self.panel.system_prompt.toPlainText() if hasattr(self, "panel") else ""
        conversation = self.store.create_conversation(system_prompt=system)
        self.sidebar.reload(conversation.id)
        return conversation.id

    @Slot(int)
    def open_conversation(self, conversation_id: int) -> None:
        if self.busy:  # the streaming reply belongs to the open conversation
            self.sidebar.reload(self.conversation_id)
            self.status.setText("Stop the reply before switching conversations.")
            return
        self.conversation_id = conversation_id
        conversation = self.store.get_conversation(conversation_id)
        self.panel.set_system_prompt(conversation.system_prompt)
        self.transcript.clear()
        for message in self.store.messages(conversation_id):
            self._add_stored(message)
        self.sidebar.reload(conversation_id)
        self.count_context()

    def _add_stored(self, message: StoredMessage) -> MessageWidget:
        widget = self._new_widget(message.id, message.role)
        if message.token_probs:
            widget.set_events(events_from_json(message.token_probs))
        else:
            widget.set_text(message.content)
        if message.status == "partial":
            widget.set_error("This reply was interrupted (the app or the model stopped).")
        elif message.status == "error" and message.stats and message.stats.get("error"):
            widget.set_error(str(message.stats["error"]))
        return widget

    def _new_widget(self, message_id: int, role: str) -> MessageWidget:
        widget = MessageWidget(message_id, role)  # type: ignore[arg-type]
        widget.set_show_probabilities(self.panel.show_probabilities.isChecked())
        widget.edit_requested.connect(self.edit_message)
        widget.regenerate_requested.connect(self.regenerate)
        return self.transcript.add(widget)

    @Slot(int)
    def _on_deleted(self, conversation_id: int) -> None:
        if conversation_id == self.conversation_id:
            remaining = self.store.list_conversations()
            self.open_conversation(remaining[0].id if remaining else self.new_chat())

    @Slot(str)
    def _on_system_prompt(self, text: str) -> None:
        if self.conversation_id is not None:
            self.store.set_system_prompt(self.conversation_id, text)

    # ---- model ---------------------------------------------------------------------

    @Slot(str)
    def load_model(self, path: str) -> None:
        if self.lent_to:
            self.status.setText(self.lent_to)
            return
        self.model_bar.add_and_select(path)
        self.settings.set("chat/recent_models", self.model_bar.recent)
        self.engine.load_requested.emit(path, self.panel.load_settings())

    @Slot(str)
    def _on_load_started(self, path: str) -> None:
        self.model = None
        self.model_bar.set_loading(True)
        self.status.setText(f"Loading {path}…")

    @Slot(str)
    def _on_load_warning(self, message: str) -> None:
        self.status.setText(f"⚠ {message}")

    @Slot(object)
    def _on_model_loaded(self, model: LoadedModel) -> None:
        self.model = model
        self.model_info = model.info if isinstance(model.info, ModelInfo) else None
        self.model_bar.set_loading(False)
        self.model_bar.show_model(self.model_info, model.context_size)
        self.settings.set("chat/last_model", model.path)
        no_template = not model.template.chat_template
        self.panel.base_mode.setChecked(no_template)  # each model starts in its own mode
        self.status.setText(
            f"Model ready in {model.load_seconds:.1f} s · context {model.context_size:,} tokens"
            + (" · no chat template: base-model mode is on" if no_template else "")
        )
        self.count_context()

    def count_context(self) -> None:
        """Ask the model's own tokenizer how long the conversation is (answer: tokenized)."""
        if self.model is None or self.conversation_id is None or self.busy:
            return
        self._count_request = next(self._request_ids)
        text = self.prompt_for(self.store.chat_messages(self.conversation_id)).text
        self.engine.tokenize_requested.emit(self._count_request, text, True)

    @Slot(int, object, object)
    def _on_tokenized(self, request_id: int, ids: Sequence[int], _pieces: object) -> None:
        if request_id == self._count_request and self.model is not None:
            self.show_context(len(ids))

    def show_context(self, used: int) -> None:
        self.context_used = used
        size = self.model.context_size if self.model else 0
        share = used / size if size else 0.0
        colour = "#a40000" if share > 0.9 else "#555"
        self.context_label.setText(
            f'<span style="color:{colour}">Context {used:,} / {size:,} tokens</span>'
        )

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.model = None
        self.model_bar.set_loading(False)
        self.model_bar.show_error(message)
        self.status.setText("No model loaded.")

    @Slot(str)
    def _on_crashed(self, message: str) -> None:
        self.model = None
        self.model_bar.show_error(message)

    # ---- sending -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.stream.active

    @property
    def reply(self) -> MessageWidget | None:
        """The reply being streamed, if any."""
        return self.stream.widget

    def prompt_for(self, messages: list[ChatMessage]) -> PromptPlan:
        template = self.model.template if self.model else TemplateInfo()
        return build_prompt(messages, template, base_mode=self.panel.base_mode.isChecked())

    def lend_model(self, reason: str | None) -> None:
        """Another tab (the quiz) is using the model: no sending or loading until it ends."""
        self.lent_to = reason
        self.model_bar.setEnabled(reason is None and not self.busy)
        self.status.setText(reason or "")

    @Slot(str)
    def send(self, text: str) -> None:
        if self.busy or self.conversation_id is None:
            return
        if self.lent_to:
            self.status.setText(self.lent_to)
            return
        if self.model is None:
            self.status.setText("Load a model first (pick one above, or Open GGUF…).")
            return
        message = self.store.add_message(self.conversation_id, "user", text)  # on disk first
        if self.composer.edit.toPlainText().strip() == text:
            self.composer.edit.clear()
        self.store.set_model(self.conversation_id, self.model.path)
        self._new_widget(message.id, "user").set_text(text)
        self.sidebar.reload(self.conversation_id)
        self._start_reply()

    def _start_reply(self) -> None:
        assert self.conversation_id is not None
        plan = self.prompt_for(self.store.chat_messages(self.conversation_id))
        self.last_prompt = plan
        stored = self.store.start_reply(self.conversation_id)
        request_id = next(self._request_ids)
        self.stream.begin(self._new_widget(stored.id, "assistant"), request_id)
        probabilities = self.panel.show_probabilities.isChecked()
        request = GenerationRequest(
            request_id=request_id,
            prompt=plan.text,
            sampling=self.panel.sampling(),
            stop=plan.stops,
            top_alternatives=TOP_ALTERNATIVES if probabilities else 0,
        )
        self.composer.set_busy(True)
        self.model_bar.setEnabled(False)  # a new model mid-reply would cut it off
        self.sidebar.locked_id = self.conversation_id
        self.status.setText(f"Generating… ({plan.mode}{'; ' + plan.note if plan.note else ''})")
        self.engine.generate_requested.emit(request)

    @Slot()
    def stop(self) -> None:
        # A direct call from the GUI thread: a signal connected to engine.stop would be
        # queued behind the very work it is meant to stop.
        self.engine.stop()

    @Slot(int, object)
    def _on_tokens(self, request_id: int, batch: Sequence[TokenEvent]) -> None:
        if self.stream.owns(request_id):
            self.stream.add(batch)

    @Slot(object)
    def _on_finished(self, stats: GenerationStats) -> None:
        if not self.stream.owns(stats.request_id):
            return
        reply = self._end_reply()
        probs = (
            events_to_json(reply.events)
            if reply.events[:1] and reply.events[0].alternatives
            else None
        )
        self.store.finish_reply(reply.message_id, reply.text, "complete", stats, probs)
        reply.set_stats(stats.summary())
        self.show_context(stats.prompt_tokens + stats.generated_tokens)
        self.status.setText(
            f"First token "
            f"{stats.time_to_first_token_s * 1000:.0f} ms · {stats.tokens_per_s:.1f} tokens/s"
            f" · stopped: {stats.stop_reason}"
        )
        self.reply_finished.emit(stats)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if not self.stream.owns(request_id):
            self.status.setText(f"⚠ {message}")
            return
        reply = self._end_reply()
        self.store.finish_reply(reply.message_id, reply.text, "error", {"error": message})
        reply.set_error(message)
        self.status.setText(f"⚠ {message}")
        self.reply_finished.emit(message)

    def _end_reply(self) -> MessageWidget:
        self.composer.set_busy(False)
        self.model_bar.setEnabled(self.lent_to is None)
        self.sidebar.locked_id = None
        return self.stream.end()

    # ---- regenerate, edit ----------------------------------------------------------

    def _stored(self, message_id: int) -> StoredMessage | None:
        assert self.conversation_id is not None
        return next(
            (m for m in self.store.messages(self.conversation_id) if m.id == message_id), None
        )

    @Slot(int)
    def regenerate(self, message_id: int, confirm: bool = True) -> None:
        """Replace an assistant reply (and everything after it) with a new one."""
        message = self._stored(message_id)
        if self.busy or message is None or self.model is None:
            return
        assert self.conversation_id is not None
        later = len(self.store.messages(self.conversation_id)) - message.position - 1
        if confirm and later > 0 and not self._confirm_dropping(later):
            return
        self.store.truncate_after(self.conversation_id, message.position - 1)
        self.transcript.remove_after(message_id, inclusive=True)
        self._start_reply()

    @Slot(int)
    def edit_message(self, message_id: int, new_text: str | None = None) -> None:
        """Edit a user message and resend it: later messages are replaced."""
        message = self._stored(message_id)
        if self.busy or message is None:
            return
        if new_text is None:
            new_text, ok = QInputDialog.getMultiLineText(
                self, "Edit message", "Edit and resend:", message.content
            )
            if not ok:
                return
        if not new_text.strip() or self.model is None:
            return
        self.store.edit_and_truncate(message_id, new_text)
        self.transcript.remove_after(message_id)
        widget = self.transcript.widget_for(message_id)
        if widget is not None:
            widget.set_text(new_text)
        self._start_reply()

    def _confirm_dropping(self, count: int) -> bool:
        answer = QMessageBox.question(
            self,
            "Regenerate",
            f"Regenerating this reply removes the {count} message(s) after it. Go on?",
        )
        return answer == QMessageBox.StandardButton.Yes

    # ---- views ---------------------------------------------------------------------

    @Slot(bool)
    def _on_probabilities(self, on: bool) -> None:
        self.legend.setVisible(on)
        for widget in self.transcript.messages:
            widget.set_show_probabilities(on)

    def current_prompt(self) -> PromptPlan:
        """The prompt the next message would produce (with what is in the composer)."""
        assert self.conversation_id is not None
        messages = self.store.chat_messages(self.conversation_id)
        pending = self.composer.edit.toPlainText().strip()
        if pending:
            messages.append(ChatMessage("user", pending))
        return self.prompt_for(messages)

    @Slot()
    def show_prompt_dialog(self) -> None:
        PromptDialog(self.current_prompt(), self).open()

    def shutdown(self) -> None:
        """The window is closing: keep what the reply has so far as a stopped reply."""
        if self.reply is not None:
            self.engine.stop()
            reply = self._end_reply()
            stats = {"stop_reason": "cancelled", "note": "the app was closed"}
            self.store.finish_reply(reply.message_id, reply.text, "complete", stats)
        self.panel.save_values()
        self.settings.sync()

"""The Chat tab: wires the sidebar, model bar, transcript, composer and settings together.

The flow of one reply: the user's message is committed to SQLite, the prompt is built by
`core.prompt_builder`, the engine streams tokens, a 50 ms timer renders them and a 0.5 s
timer commits the partial reply, so a crash loses at most the last half second.

The tab owns the widgets and the open conversation; its helpers do the rest:
`ModelLoader` loads the model and counts the context, `ReplyRequests` asks for a reply and
handles the engine's answers, `MessageActions` makes message widgets and acts on their
Regenerate and Edit buttons.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.conversations import ConversationStore
from desktop.core.generation import ChatMessage
from desktop.core.prompt_builder import PromptPlan, TemplateInfo, build_prompt
from desktop.core.token_colours import legend_html
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.protocol import LoadedModel
from desktop.ui.app_settings import AppSettings
from desktop.ui.chat.composer import Composer
from desktop.ui.chat.conversation_list import ConversationSidebar
from desktop.ui.chat.message_actions import MessageActions
from desktop.ui.chat.message_widget import MessageWidget
from desktop.ui.chat.model_bar import ModelBar
from desktop.ui.chat.model_loader import ModelLoader
from desktop.ui.chat.prompt_dialog import PromptDialog
from desktop.ui.chat.reply_requests import ReplyRequests
from desktop.ui.chat.settings_panel import SettingsPanel
from desktop.ui.chat.transcript import TranscriptView


class ChatTab(QWidget):
    reply_finished = Signal(object)  # GenerationStats, or an error message (str)

    def __init__(self, engine: InferenceEngine, store: ConversationStore) -> None:
        super().__init__()
        self.engine = engine
        self.store = store
        self.settings = AppSettings()
        self._request_ids = itertools.count(1)
        self.conversation_id: int | None = None
        self.lent_to: str | None = None  # why another tab has the model now

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

        self.model_loader = ModelLoader(
            engine, self.settings, self.panel, self.model_bar, self.status, self.context_label, self
        )
        self.replies = ReplyRequests(self, self._request_ids)
        self.message_actions = MessageActions(self)

        self._connect()
        QShortcut(QKeySequence.StandardKey.New, self).activated.connect(self._new_chat_clicked)
        QShortcut(QKeySequence("Escape"), self).activated.connect(self.stop)
        conversations = store.list_conversations()
        self.open_conversation(conversations[0].id if conversations else self.new_chat())

    def _connect(self) -> None:
        self.replies.finished.connect(self.reply_finished)
        self.model_loader.ready.connect(self.count_context)
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
            self.message_actions.add_stored(message)
        self.sidebar.reload(conversation_id)
        self.count_context()

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

    @property
    def model(self) -> LoadedModel | None:
        return self.model_loader.model

    @property
    def context_used(self) -> int:
        """Tokens the conversation takes, as the model's tokenizer last counted them."""
        return self.model_loader.context_used

    @Slot(str)
    def load_model(self, path: str) -> None:
        if self.lent_to:
            self.status.setText(self.lent_to)
            return
        self.model_loader.load(path)

    def lend_model(self, reason: str | None) -> None:
        """Another tab (the quiz) is using the model: no sending or loading until it ends."""
        self.lent_to = reason
        self.model_bar.setEnabled(reason is None and not self.busy)
        self.status.setText(reason or "")

    @Slot()
    def count_context(self) -> None:
        """Ask the model's own tokenizer how long the conversation is."""
        if self.model is None or self.conversation_id is None or self.busy:
            return
        request_id = next(self._request_ids)
        text = self.prompt_for(self.store.chat_messages(self.conversation_id)).text
        self.model_loader.count_tokens(request_id, text)

    # ---- sending -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.replies.stream.active

    @property
    def reply(self) -> MessageWidget | None:
        """The reply being streamed, if any."""
        return self.replies.stream.widget

    @property
    def last_prompt(self) -> PromptPlan | None:
        """The prompt of the latest reply asked for."""
        return self.replies.last_prompt

    def prompt_for(self, messages: list[ChatMessage]) -> PromptPlan:
        template = self.model.template if self.model else TemplateInfo()
        return build_prompt(messages, template, base_mode=self.panel.base_mode.isChecked())

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
        self.message_actions.add(message.id, "user").set_text(text)
        self.sidebar.reload(self.conversation_id)
        self.replies.start()

    @Slot()
    def stop(self) -> None:
        """Stop this tab's reply, or the model loading. Direct calls from the GUI thread: a
        signal would be queued behind the very work it is meant to stop. The reply is
        stopped by its request id, so a quiz asking after it is never stopped from here."""
        if self.busy:
            self.engine.stop_request(self.replies.stream.request_id)
        elif self.lent_to is None:
            self.engine.stop()

    # ---- regenerate, edit ----------------------------------------------------------

    def regenerate(self, message_id: int, confirm: bool = True) -> None:
        """Replace an assistant reply (and everything after it) with a new one."""
        self.message_actions.regenerate(message_id, confirm)

    def edit_message(self, message_id: int, new_text: str | None = None) -> None:
        """Edit a user message and resend it: later messages are replaced."""
        self.message_actions.edit_message(message_id, new_text)

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
        self.replies.save_partial()
        self.panel.save_values()
        self.settings.sync()

"""The Chat tab: renders a ChatSession (the conversation and the reply being written) with
the sidebar, model bar, transcript, composer and settings around it.

The flow of one reply: the session commits the user's message, the engine builds the
prompt off the GUI thread (the template in its limited child process), fits it to the
context and streams tokens to this tab only; a 50 ms timer renders them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from desktop.core.chat.base_prompt import DEFAULT_STYLE, BasePromptStyle
from desktop.core.chat.chat_examples import CHAT_EXAMPLES
from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.context_fit import FittedPrompt
from desktop.core.chat.generation import ChatMessage, GenerationStats
from desktop.core.chat.prompt_builder import MODE_LABELS, MODES, PromptMode
from desktop.core.chat.token_colours import legend_html
from desktop.core.documents.document import Document
from desktop.core.remote.endpoint import RemoteModel
from desktop.core.sandbox.runtime_files import compiled_path
from desktop.core.storage.conversations import ConversationStore
from desktop.core.storage.data_problems import ReadOnlyDatabase
from desktop.core.tools.tool_specs import RUN_PYTHON, SEARCH
from desktop.engine.chat_turn import default_prompt_mode
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.jobs import Jobs
from desktop.engine.protocol import LoadedModel
from desktop.engine.tool_runner import CollectionCache, ToolKit
from desktop.ui.app_settings import AppSettings
from desktop.ui.chat.attachments import Attachments
from desktop.ui.chat.chat_session import ChatSession
from desktop.ui.chat.composer import Composer, with_use_code
from desktop.ui.chat.conversation_list import ConversationSidebar
from desktop.ui.chat.message_actions import MessageActions
from desktop.ui.chat.message_widget import MessageWidget
from desktop.ui.chat.model_bar import ModelBar
from desktop.ui.chat.model_loader import ModelLoader
from desktop.ui.chat.prompt_dialog import PromptDialog
from desktop.ui.chat.reply_stream import ReplyStream
from desktop.ui.chat.settings_panel import ChatSettingsPanel
from desktop.ui.chat.tool_cards import ToolCards
from desktop.ui.chat.transcript import BUILT_IN_LINK, TranscriptView, empty_hint
from desktop.ui.widgets.compact import scrolling
from desktop.ui.widgets.message_label import MessageLabel

TOP_ALTERNATIVES = 5
# What a write to the conversation store can raise: said, never a traceback
WRITE_ERRORS = (OSError, sqlite3.Error, ReadOnlyDatabase)


class ChatTab(QWidget):
    reply_finished = Signal(object)  # GenerationStats (None: stopped before it began), or str
    compare_requested = Signal()  # "Compare…": two models on this conversation
    train_requested = Signal(int)  # "Train on this conversation": its id

    def __init__(self, engine: InferenceEngine, store: ConversationStore) -> None:
        super().__init__()
        self.engine = engine
        self.store = store
        self.settings = AppSettings()
        self.base_style = self._stored_style()
        self._collections = CollectionCache()  # the search tool's index, kept between calls
        self.sidebar = ConversationSidebar(store)
        self.model_bar = ModelBar(self.settings.get("chat/recent_models"))
        self.model_bar.refresh(select=self.settings.get("chat/last_model") or None)
        self.transcript = TranscriptView()
        self.composer = Composer()
        self.status = MessageLabel("", plain=True)  # file names, errors: text, never HTML
        self.status.setStyleSheet("color: #555;")
        self.status.setWordWrap(True)  # a long message wraps; the window never widens
        self.panel = ChatSettingsPanel(self.settings, store.presets)
        self.context_label = QLabel("")
        self.context_label.setToolTip("Tokens of the next prompt, counted by the model itself")
        self.legend = QLabel(legend_html())
        self.legend.setWordWrap(True)  # one line is wider than a 1024-pixel window
        self.legend.setVisible(self.panel.show_probabilities.isChecked())
        self._layout()

        # (model, mode) a lesson step is loading; any other model that loads forgets it
        self._lesson_mode: tuple[str, str] | None = None
        self.session = ChatSession(engine, store, self.make_request, self.make_kit)
        self.tool_cards = ToolCards(self.session, self.transcript, self.status.setText)
        self.attachments = Attachments(store, self.composer.chips, lambda: self.conversation_id,
                                       self.status.setText, self)  # fmt: skip
        self.jobs = Jobs(self)  # kind: "sandbox" (compiling its interpreter, once)
        self._sandbox_asked = False
        self.model_loader = ModelLoader(
            engine, self.settings, self.panel, self.model_bar, self.status, self
        )
        self.stream = ReplyStream(self)
        self.message_actions = MessageActions(
            self.session, self.transcript, self._can_ask,
            self.panel.show_probabilities.isChecked, self,
        )  # fmt: skip
        self.message_actions.prompt_requested.connect(self.show_prompt_dialog)
        self.context_used = 0
        self._connect()
        QShortcut(QKeySequence.StandardKey.New, self).activated.connect(self._new_chat_clicked)
        QShortcut(QKeySequence("Escape"), self).activated.connect(self.stop)
        conversations = store.list_conversations()
        if conversations:
            self.open_conversation(conversations[0].id)
        elif not store.read_only:
            self.open_conversation(self.new_chat())
        self._show_hint()
        if store.read_only:  # a damaged database opened to read: nothing can be written
            for widget in (self.composer, self.sidebar.new_button, self.panel.system_prompt):
                widget.setEnabled(False)
            self.status.setText("Read-only: the conversations can be read, not changed.")

    def _layout(self) -> None:
        center = QWidget()
        column = QVBoxLayout(center)
        column.addWidget(self.model_bar)
        column.addWidget(self.transcript, 1)
        column.addWidget(self.legend)
        column.addWidget(self.composer)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.context_label)
        column.addLayout(status_row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(center)
        splitter.addWidget(scrolling(self.panel))  # a 1024×700 projector shows it too
        splitter.setSizes([220, 760, 300])
        splitter.setStretchFactor(1, 1)
        QHBoxLayout(self).addWidget(splitter)

    def _connect(self) -> None:
        s = self.session
        s.reply_started.connect(self._on_reply_started)
        s.reply_prompt.connect(self._on_reply_prompt)
        s.reply_tokens.connect(self.stream.add)
        s.reply_finished.connect(self._on_reply_finished)
        s.reply_failed.connect(self._on_reply_failed)
        s.context_counted.connect(self._on_context_counted)
        s.tool_calls.connect(self._on_tool_calls)
        s.tools_ended.connect(self._on_tools_ended)
        self.composer.attach_requested.connect(self.attachments.choose)
        self.composer.search_requested.connect(self.open_search)
        self.composer.use_code.toggled.connect(self._on_use_code)
        self.composer.let_search.toggled.connect(self.count_context)
        self.model_loader.ready.connect(self._on_model_ready)
        self.model_loader.gone.connect(self._show_hint)
        self.engine.lease_changed.connect(self._on_lease)
        self.model_bar.load_requested.connect(self.load_model)
        self.model_bar.compare_requested.connect(self.compare_requested)
        self.sidebar.train_requested.connect(self.train_requested)
        # whoever asked for the load (a Compare round too), the list shows what is loading
        self.engine.load_started.connect(self.model_bar.select_loaded)
        self.transcript.hint_link.connect(self._on_hint_link)
        self.model_bar.stop_load_requested.connect(self.stop)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self.sidebar.new_requested.connect(self._new_chat_clicked)
        self.sidebar.selected.connect(self.open_conversation)
        self.sidebar.deleted.connect(self._on_deleted)
        self.panel.system_prompt_changed.connect(self._on_system_prompt)
        self.panel.view_prompt_requested.connect(self.show_prompt_dialog)
        self.panel.probabilities_toggled.connect(self._on_probabilities)
        self.panel.mode_changed.connect(self._on_mode_chosen)
        self.panel.edit_base_prompt_requested.connect(self.edit_base_prompt)
        self.panel.compare_modes_requested.connect(self.compare_modes)
        self.panel.example_chosen.connect(self.use_example)

    # ---- requests ------------------------------------------------------------------

    def make_request(self, messages: Sequence[ChatMessage]) -> ChatRequest:
        """How this tab asks: the panel's mode, identity, sampling and overflow policy."""
        probabilities = self.panel.show_probabilities.isChecked()
        return ChatRequest(
            tuple(messages),
            self.panel.sampling(),
            mode=self.prompt_mode,
            style=self.base_style,
            overflow=self.panel.overflow_policy(),
            top_alternatives=TOP_ALTERNATIVES if probabilities else 0,
            threads=self.panel.threads.value(),
            tools=self.offered_tools(),
            documents=self.attachments.documents,
        )

    def offered_tools(self) -> tuple[str, ...]:
        tools = []
        if self.composer.use_code.isChecked():
            tools.append(RUN_PYTHON)
        if self.composer.let_search.isChecked():
            tools.append(SEARCH)
        return tuple(tools)

    def make_kit(self) -> ToolKit:
        """What a tool call may use (the search sources as they are now)."""
        kit = ToolKit(self.offered_tools(), sources=self.attachments.sources(),
                      collections=self._collections)  # fmt: skip
        return kit

    @property
    def prompt_mode(self) -> PromptMode:
        return self.panel.prompt_mode()

    # ---- conversations -------------------------------------------------------------

    @property
    def conversation_id(self) -> int | None:
        return self.session.conversation_id

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

    def open_with_document(self, title: str, text: str) -> bool:
        """A new conversation with `text` attached: the Quiz tab's article, open book."""
        if self.busy:
            self.status.setText("Stop the reply before opening the article in a new chat.")
            return False
        try:
            conversation = self.new_chat()
        except sqlite3.Error as exc:  # read-only, a full disk: said, nothing lost
            self.status.setText(f"⚠ No new conversation could be made: {exc}")
            return False
        name = title.strip() or "Article"
        self.store.rename(conversation, f"Open book: {name}")
        self.open_conversation(conversation)
        self.attachments.add([Document(name, name, text, source="the Quiz tab's article")])
        self.composer.edit.setFocus()
        return True

    @Slot(int)
    def open_conversation(self, conversation_id: int) -> None:
        if self.busy:  # the streaming reply belongs to the open conversation
            self.sidebar.reload(self.conversation_id)
            self.status.setText("Stop the reply before switching conversations.")
            return
        self.session.conversation_id = conversation_id
        conversation = self.store.get_conversation(conversation_id)
        self.panel.set_system_prompt(conversation.system_prompt)
        self.transcript.clear()
        self.tool_cards.clear()
        for message in self.store.messages(conversation_id):
            widget = None if message.role == "tool" else self.message_actions.add_stored(message)
            self.tool_cards.show_stored(message, widget)
            sources = (message.stats or {}).get("sources")
            if widget is not None and sources:
                widget.set_sources(sources)
        self.tool_cards.close_unanswered()
        self.attachments.reload()
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
            try:
                self.store.set_system_prompt(self.conversation_id, text)
            except WRITE_ERRORS as exc:
                self.status.setText(f"⚠ The identity could not be saved: {exc}")

    # ---- model ---------------------------------------------------------------------

    @property
    def model(self) -> LoadedModel | None:
        return self.model_loader.model

    def open_model_file(self) -> None:
        """Open GGUF…: a file dialog; the file joins the model list and loads."""
        self.model_bar.open_file()

    @Slot(str)
    def load_model(self, path: str) -> None:
        if self.busy:
            self.status.setText("Stop the reply first, then load the other model.")
        elif self.engine.holder:
            self.status.setText(self._lease_text(self.engine.holder))
        else:
            self.model_loader.load(path)

    def set_library(self, models: list[tuple[Path, int]]) -> None:
        """The library's usable models as (path, size), from its latest scan."""
        self.model_bar.set_library(models)

    def set_remote(self, models: list[RemoteModel]) -> None:
        """Remote models picked in the Models tab, offered after the local ones."""
        self.model_bar.set_remote(models)

    def select_last_model(self) -> None:
        """Select the model used last (at start-up, once every list of models is in)."""
        self.model_bar.refresh(select=self.settings.get("chat/last_model") or None)

    @Slot(object)
    def _on_model_ready(self, model: LoadedModel) -> None:
        modes = json.loads(self.settings.get("chat/prompt_modes") or "{}")
        mode = modes.get(model.path) or default_prompt_mode(model)
        if mode == "template" and not model.template.chat_template:
            mode = "base"
        self.panel.set_mode(mode, has_template=bool(model.template.chat_template))
        lesson, self._lesson_mode = self._lesson_mode, None
        if lesson is not None and lesson[0] == model.path:  # a lesson step loaded it
            self._on_mode_chosen(lesson[1])
        if not model.template.chat_template:
            self.status.setText(self.status.text() + " · no chat template: a base model")
        self._show_hint()
        self.count_context()

    @Slot(str)
    def _on_mode_chosen(self, mode: str) -> None:
        """Remembered per model: a base model stays in raw text, say, across restarts."""
        model = self.model
        has_template = bool(model and model.template.chat_template)
        self.panel.set_mode(mode if mode in MODES else "base", has_template=has_template)
        if model is not None:
            modes = json.loads(self.settings.get("chat/prompt_modes") or "{}")
            modes[model.path] = self.prompt_mode
            self.settings.set("chat/prompt_modes", json.dumps(modes))
        self.count_context()

    @Slot(str)
    def _on_lease(self, holder: str) -> None:
        """Another tab (the quiz) has the model: no sending or loading until it ends."""
        self.model_bar.setEnabled(not holder and not self.busy)
        self.status.setText(self._lease_text(holder) if holder else "")

    @staticmethod
    def _lease_text(holder: str) -> str:
        return f"{holder[:1].upper()}{holder[1:]} is using the model: chat and loading wait."

    def _can_ask(self) -> bool:
        """Whether a reply can start now; says why not when it cannot."""
        if self.busy:
            return False
        if self.engine.holder:
            self.status.setText(self._lease_text(self.engine.holder))
            return False
        if self.model is None:
            self.status.setText(
                "Load a model first: pick one above, open a GGUF file, train your own in the "
                "Train tab, or download one in the Models tab."
            )
            return False
        return True

    @Slot()
    def count_context(self) -> None:
        """Ask the model's own tokenizer how long the next prompt is."""
        if self.model is not None and not self.busy:
            self.session.count_context()

    @Slot(object)
    def _on_context_counted(self, fitted: FittedPrompt) -> None:
        self.show_context(fitted.prompt_tokens, fitted.context_size, fitted.note)

    def show_context(self, used: int, size: int, note: str = "") -> None:
        self.context_used = used
        share = used / size if size else 0.0
        colour = "#a40000" if share > 0.9 or note else "#555"
        self.context_label.setText(
            f'<span style="color:{colour}">Context {used:,} / {size:,} tokens</span>'
        )
        self.context_label.setToolTip(note or "Tokens of the next prompt, counted by the model")

    # ---- sending -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.session.busy

    @property
    def reply(self) -> MessageWidget | None:
        """The reply being streamed, if any."""
        return self.stream.widget

    @property
    def last_prompt(self) -> FittedPrompt | None:
        """The prompt of the latest reply asked for."""
        return self.session.prompt

    @Slot(str)
    def send(self, text: str) -> None:
        if self.conversation_id is None or not self._can_ask():
            return
        assert self.model is not None
        typed = text
        if self.composer.use_code.isChecked():
            text = with_use_code(text)
        try:
            message_id = self.session.send(text)
        except WRITE_ERRORS as exc:  # the disk is full, or the database is read-only
            self.status.setText(f"⚠ Your message could not be saved ({exc}); nothing was sent, "
                                "and it is still in the box.")  # fmt: skip
            return
        if message_id is None:
            return
        if self.composer.edit.toPlainText().strip() == typed:
            self.composer.edit.clear()
        self.store.set_model(self.conversation_id, self.model.path)
        self.sidebar.reload(self.conversation_id)

    @Slot()
    def stop(self) -> None:
        """Stop this tab's reply, or the model loading. Direct calls from the GUI thread: a
        signal would be queued behind the very work it is meant to stop."""
        if self.busy:
            self.session.stop()
        elif not self.engine.holder:
            self.engine.stop()

    @Slot(int)
    def _on_reply_started(self, message_id: int) -> None:
        assert self.conversation_id is not None
        messages = self.store.messages(self.conversation_id)
        user = next((m for m in reversed(messages) if m.role == "user"), None)
        if user is not None and self.transcript.widget_for(user.id) is None:
            self.message_actions.add(user.id, "user").set_text(user.content)
        self.stream.begin(self.message_actions.add(message_id, "assistant"))
        self.composer.set_busy(True)
        self.model_bar.setEnabled(False)  # a new model mid-reply would cut it off
        self.sidebar.locked_id = self.conversation_id
        self.status.setText(f"Generating… ({MODE_LABELS[self.prompt_mode]})")

    @Slot(object)
    def _on_reply_prompt(self, fitted: FittedPrompt) -> None:
        self.show_context(fitted.prompt_tokens, fitted.context_size, fitted.note)
        notes = "; ".join(n for n in (fitted.plan.note, fitted.note) if n)
        self.status.setText(f"Generating… ({fitted.plan.label})" + (f" · {notes}" if notes else ""))
        if self.reply is not None and notes:
            self.reply.set_stats(f"{fitted.plan.label} · {notes}")

    @Slot(object)
    def _on_reply_finished(self, stats: GenerationStats | None) -> None:
        widget = self._end_reply()
        if self.session.sources:
            widget.set_sources(self.session.sources)
        fitted = self.session.prompt
        if stats is not None:
            prefix = f"{fitted.plan.label} · " if fitted is not None else ""
            note = f"{fitted.note} · " if fitted is not None and fitted.note else ""
            widget.set_stats(prefix + note + stats.summary())
            if fitted is not None:
                self.show_context(stats.prompt_tokens + stats.generated_tokens,
                                  fitted.context_size, fitted.note)  # fmt: skip
            self.status.setText(
                f"First token {stats.time_to_first_token_s * 1000:.0f} ms · "
                f"{stats.tokens_per_s:.1f} tokens/s · stopped: {stats.stop_reason}"
            )
        self.reply_finished.emit(stats)

    @Slot(int, object)
    def _on_tool_calls(self, _message_id: int, _calls: object) -> None:
        """The reply asked for tools: the tab stays busy until they are answered (Stop
        ends the steps)."""
        self.composer.set_busy(True)
        self.model_bar.setEnabled(False)
        self.sidebar.locked_id = self.conversation_id

    @Slot()
    def _on_tools_ended(self) -> None:
        self._end_tools()
        self.status.setText("Stopped: the model was not asked again.")

    def _end_tools(self) -> None:
        self.composer.set_busy(False)
        self.model_bar.setEnabled(not self.engine.holder)
        self.sidebar.locked_id = None

    @Slot(bool)
    def _on_use_code(self, on: bool) -> None:
        """The first time: compile the sandbox's interpreter in the background (10-25 s
        once per machine), so the first run does not wait for it."""
        if on and not self._sandbox_asked and not sandbox_is_compiled():
            from desktop.engine.sandbox.run_code import prepare_sandbox

            self._sandbox_asked = True
            self.jobs.start("sandbox", lambda _c: prepare_sandbox())
        self.count_context()

    @Slot()
    def open_search(self) -> None:
        from desktop.ui.chat.search_dialog import SearchDialog

        dialog = SearchDialog(self.attachments, self._collections, self)
        dialog.quote_requested.connect(self._quote)
        dialog.setText(self.composer.edit.toPlainText().strip())
        dialog.open()
        self.search_dialog = dialog

    @Slot(str)
    def _quote(self, text: str) -> None:
        current = self.composer.edit.toPlainText().rstrip()
        self.composer.edit.setPlainText(f"{current}\n\n{text}" if current else text)

    @Slot(str)
    def _on_reply_failed(self, message: str) -> None:
        widget = self._end_reply()
        widget.set_error(message)
        self.status.setText("The reply failed: see the message above.")
        self.reply_finished.emit(message)

    def _end_reply(self) -> MessageWidget:
        self.composer.set_busy(False)
        self.model_bar.setEnabled(not self.engine.holder)
        self.sidebar.locked_id = None
        return self.stream.end()

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

    @Slot(str)
    def _on_hint_link(self, link: str) -> None:
        if link == BUILT_IN_LINK:
            self.load_built_in()

    @Slot()
    def load_built_in(self) -> None:
        """The post-trained built-in model (the empty chat's link, the Quiz tab's button)."""
        from desktop.core.resources import bundled_for_chat

        if built_in := bundled_for_chat():
            self.load_model(str(built_in[0]))

    @Slot()
    def _show_hint(self) -> None:
        self.transcript.set_hint(empty_hint(model_loaded=self.model is not None))

    @Slot()
    @Slot(int)
    def show_prompt_dialog(self, reply_id: int = 0) -> None:
        """The prompt of a reply (`reply_id`'s, or the latest: as stored with it) and of the
        next message."""
        replies = []
        if self.conversation_id is not None:
            replies = [m for m in self.store.messages(self.conversation_id)
                       if m.role == "assistant" and m.stats and m.stats.get("prompt")]  # fmt: skip
        chosen = [m for m in replies if m.id == reply_id] if reply_id else replies[-1:]
        shown = chosen[0].stats["prompt"] if chosen and chosen[0].stats else None
        latest = not reply_id or (bool(replies) and replies[-1].id == reply_id)
        dialog = PromptDialog(shown, self, latest=latest)
        self.session.preview_ready.connect(dialog.show_next)
        self.session.preview_failed.connect(dialog.show_next_error)
        if self.model is None:
            dialog.show_next_error("Load a model to see the prompt it would get.")
        else:
            self.session.preview(self.composer.edit.toPlainText())
        dialog.open()

    @Slot(int)
    def use_example(self, index: int) -> None:
        """Fill the message box with a lesson, in the mode that shows it, and say what to
        look at."""
        example = CHAT_EXAMPLES[index]
        if example.mode is not None and self.model is not None:
            self._on_mode_chosen(example.mode)
        if example.use_code:
            self.composer.use_code.setChecked(True)
        self.composer.edit.setPlainText(example.text)
        self.composer.edit.setFocus()
        self.status.setText(f"💡 {example.note}")

    def show_lesson_step(self, example: str, mode: str) -> None:
        """A lesson's step: its example in the message box, in its mode. With no model
        loaded, a base-model step (raw text, base model as assistant) loads the built-in
        base model and takes its mode once the model is ready."""
        if mode in MODES and self.model is not None:
            self._on_mode_chosen(mode)
        elif mode in ("raw", "base") and self.model is None and not self.model_bar.loading:
            from desktop.core.resources import STARTER, bundled_models

            base = next((p for p in bundled_models() if p.name == STARTER), None)
            if base is not None:
                self._lesson_mode = (str(base), mode)
                self.load_model(str(base))
        if example:
            self.composer.edit.setPlainText(example)

    @Slot()
    def compare_modes(self) -> None:
        if not self._can_ask():
            return
        from desktop.ui.chat.modes_compare import ModesCompareDialog

        model = self.model
        assert model is not None
        modes: list[PromptMode] = ["raw", "base"]
        if model.template.chat_template:
            modes.append("template")
        question = self.composer.edit.toPlainText().strip()
        self.modes_dialog = ModesCompareDialog(self.engine, self.make_request, modes, question,
                                               self)  # fmt: skip
        self.modes_dialog.open()
        self.modes_dialog.ask()

    @Slot()
    def edit_base_prompt(self) -> None:
        from desktop.ui.chat.base_prompt_dialog import BasePromptDialog

        dialog = BasePromptDialog(self.base_style, self.settings, self)
        if dialog.exec():
            self.base_style = dialog.prompt_style()
            self.settings.set("chat/base_style", json.dumps(self.base_style.to_dict()))
            self.count_context()

    def _stored_style(self) -> BasePromptStyle:
        text = self.settings.get("chat/base_style")
        try:
            return BasePromptStyle.from_dict(json.loads(text)) if text else DEFAULT_STYLE
        except (ValueError, TypeError, AttributeError):
            return DEFAULT_STYLE

    def shutdown(self) -> None:
        """The window is closing: keep what the reply has so far as a stopped reply."""
        if self.busy:
            self.session.save_partial()
            self.stream.end()
        self.panel.save_values()
        self.settings.sync()


def sandbox_is_compiled() -> bool:
    return compiled_path().exists()

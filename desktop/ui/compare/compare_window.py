"""Compare: two models answer the same message side by side - local and local, local and
remote, base and instruct, before and after post-training - with each one's time to first
token and tokens/s; a vote (A, B or a tie) is stored as a preference pair, the data RLHF
learns from (the Reinforce tab's reward model reads the same table).

How a round runs (one engine, each model loaded in turn) is explained in compare_run.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat.chat_request import ChatReply
from desktop.core.chat.generation import ChatMessage
from desktop.core.remote.servers import display_name
from desktop.core.storage.data_problems import ReadOnlyDatabase
from desktop.core.storage.preference_jsonl import PreferenceFileError
from desktop.core.storage.preferences import PreferenceStore, Vote, pair_from_vote
from desktop.engine.inference_engine import InferenceEngine
from desktop.ui.app_settings import AppSettings
from desktop.ui.compare.compare_run import CompareRun, Side
from desktop.ui.compare.compare_source import CompareSource, source_from_chat
from desktop.ui.compare.reply_column import ReplyColumn
from desktop.ui.widgets.message_label import MessageLabel

WRITE_ERRORS = (OSError, sqlite3.Error, ReadOnlyDatabase)
TOOLTIP = Qt.ItemDataRole.ToolTipRole
VOTE_WORDS = {"a": "A is better", "tie": "Tie", "b": "B is better"}


class CompareWindow(QDialog):
    def __init__(
        self,
        engine: InferenceEngine,
        chat: object | None = None,  # the ChatTab whose models and conversation it uses
        parent: QWidget | None = None,
        preferences: PreferenceStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare two models")
        self.setWindowFlag(Qt.WindowType.Window)  # its own window: minimise, maximise
        self.engine = engine
        self.chat = chat
        self.settings = AppSettings()
        self.preferences = preferences or PreferenceStore()
        self.source = CompareSource([])
        self.run: CompareRun | None = None
        self.messages: list[ChatMessage] = []  # what the latest round answered
        self.paths: dict[str, str] = {}  # ... and with which models
        self.order = ""  # which answered first: "A then B"
        self.columns = {"a": ReplyColumn("A"), "b": ReplyColumn("B")}
        self.use_history = QCheckBox()
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("The message both models answer")
        self.prompt.setMaximumHeight(70)
        self.prompt.setAccessibleName("The message both models answer")
        self.ask_button = QPushButton("Ask both")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.swap_button = QPushButton("Swap A ⇄ B")
        self.vote_buttons = {vote: QPushButton(VOTE_WORDS[vote]) for vote in ("a", "tie", "b")}
        self.vote_status = MessageLabel("", plain=True)
        self.pairs_label = QLabel("")
        self.export_button = QPushButton("Export pairs (JSONL)…")
        self.import_button = QPushButton("Import pairs…")
        self.status = MessageLabel("", plain=True)
        self._layout()
        self.ask_button.clicked.connect(self.ask)
        self.stop_button.clicked.connect(self.stop)
        self.swap_button.clicked.connect(self.swap)
        for vote, button in self.vote_buttons.items():
            button.clicked.connect(lambda _checked=False, v=vote: self.vote(v))
        self.export_button.clicked.connect(self._export_clicked)
        self.import_button.clicked.connect(self._import_clicked)
        self._set_voting(False)
        self._show_count()
        self.resize(980, 640)  # a 1024×700 projector shows all of it

    def _layout(self) -> None:
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.prompt, 1)
        buttons = QVBoxLayout()
        for button in (self.ask_button, self.stop_button, self.swap_button):
            buttons.addWidget(button)
        ask_row.addLayout(buttons)
        sides = QSplitter(Qt.Orientation.Horizontal)
        for column in self.columns.values():
            sides.addWidget(column)
        vote_row = QHBoxLayout()
        vote_row.addWidget(QLabel("Which reply is better?"))
        for button in self.vote_buttons.values():
            vote_row.addWidget(button)
        vote_row.addWidget(self.vote_status, 1)
        pairs_row = QHBoxLayout()
        pairs_row.addWidget(self.pairs_label, 1)
        pairs_row.addWidget(self.export_button)
        pairs_row.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.use_history)
        layout.addLayout(ask_row)
        layout.addWidget(sides, 1)
        layout.addWidget(self.status)
        layout.addLayout(vote_row)
        layout.addLayout(pairs_row)

    # ---- what to compare -----------------------------------------------------------

    def start_from_chat(self) -> None:
        """Read the Chat tab again: its models, conversation and the message being typed."""
        from desktop.ui.chat.chat_tab import ChatTab

        if isinstance(self.chat, ChatTab) and not self.busy:
            self.set_source(source_from_chat(self.chat))

    def set_source(self, source: CompareSource) -> None:
        self.source = source
        remembered = {"a": self.settings.get("compare/model_a"),
                      "b": self.settings.get("compare/model_b")}  # fmt: skip
        for key, column in self.columns.items():
            current = column.path or remembered[key]
            column.model.clear()
            for label, path in source.choices:
                column.model.addItem(label, path)
                column.model.setItemData(column.model.count() - 1, path, TOOLTIP)
            index = column.model.findData(current) if current else -1
            if index < 0:  # A: the model the Chat tab has; B: another one
                fallback = source.loaded_path if key == "a" else self._other_than(source)
                index = column.model.findData(fallback)
            column.model.setCurrentIndex(max(index, 0) if column.model.count() else -1)
        turns = sum(1 for m in source.history if m.role != "system")
        title = source.conversation_title or "the open conversation"
        if source.history:
            self.use_history.setText(
                f"Continue the Chat tab's conversation “{title}” ({turns} messages and its "
                "identity); else the message alone"
            )
        else:
            self.use_history.setText("The Chat tab's conversation is empty: both models get "
                                     "the message alone")  # fmt: skip
        self.use_history.setChecked(bool(source.history))
        self.use_history.setEnabled(bool(source.history))
        if source.draft:
            self.prompt.setPlainText(source.draft)

    def _other_than(self, source: CompareSource) -> str:
        others = [path for _label, path in source.choices if path != source.loaded_path]
        return others[0] if others else source.loaded_path

    @Slot()
    def swap(self) -> None:
        a, b = self.columns["a"].model, self.columns["b"].model
        index_a = a.currentIndex()
        a.setCurrentIndex(b.currentIndex())
        b.setCurrentIndex(index_a)

    # ---- a round -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.run is not None and self.run.running

    @Slot()
    def ask(self) -> None:
        text = self.prompt.toPlainText().strip()
        paths = {key: column.path for key, column in self.columns.items()}
        if self.busy:
            return
        if not text:
            self.status.setText("Type the message both models should answer.")
            return
        if not all(paths.values()):
            self.status.setText("Pick a model for A and for B (the Chat tab's list: "
                                "local files, built-in and remote models).")  # fmt: skip
            return
        history = list(self.source.history) if self.use_history.isChecked() else []
        messages = [*history, ChatMessage("user", text)]
        run = CompareRun(self.engine, [Side("a", paths["a"]), Side("b", paths["b"])],
                         lambda side: self.source.request(messages, side.path),
                         self.source.load_settings, self)  # fmt: skip
        self._connect(run)
        for column in self.columns.values():
            column.begin("Waiting for its turn…")
        self.run, self.messages, self.paths = run, messages, paths
        problem = run.start()
        if problem:
            self.run = None
            self.status.setText(problem)
            for column in self.columns.values():
                column.state.setText("")
            return
        self.settings.set("compare/model_a", paths["a"])
        self.settings.set("compare/model_b", paths["b"])
        self.order = " then ".join(s.key.upper() for s in run.queue)
        self.status.setText(f"Asking {self.order}, one after the other (the model already "
                            "loaded goes first).")  # fmt: skip
        self._set_running(True)

    def _connect(self, run: CompareRun) -> None:
        run.loading.connect(lambda key: self.columns[key].set_loading())
        run.load_note.connect(lambda key, note: self.columns[key].set_note(note))
        run.loaded.connect(lambda key, model: self.columns[key].set_loaded(model))
        run.prompt_ready.connect(lambda key, fitted: self.columns[key].set_prompt(fitted))
        run.tokens.connect(lambda key, batch: self.columns[key].add_tokens(batch))
        run.finished.connect(self._on_finished)
        run.failed.connect(lambda key, message: self.columns[key].fail(message))
        run.done.connect(self._on_done)

    @Slot(str, object)
    def _on_finished(self, key: str, reply: ChatReply) -> None:
        self.columns[key].finish(reply)

    @Slot()
    def stop(self) -> None:
        if self.run is not None:
            self.run.cancel()

    @Slot()
    def _on_done(self) -> None:
        self._set_running(False)
        replies = [c.reply_result for c in self.columns.values()]
        if all(r is not None for r in replies):
            self.status.setText(f"Both replies are in ({self.order}): vote for the better one, "
                                "or a tie.")  # fmt: skip
            self._set_voting(True)
        else:
            self.status.setText("A vote needs two replies: see what went wrong above, then "
                                "ask again.")  # fmt: skip

    def _set_running(self, running: bool) -> None:
        self.ask_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.swap_button.setEnabled(not running)
        for column in self.columns.values():
            column.model.setEnabled(not running)
        if running:
            self._set_voting(False)
            self.vote_status.setText("")

    def _set_voting(self, on: bool) -> None:
        for button in self.vote_buttons.values():
            button.setEnabled(on)

    # ---- votes and pairs -----------------------------------------------------------

    def vote(self, vote: Vote) -> None:
        """Store the round as a preference pair (once per round)."""
        a, b = self.columns["a"], self.columns["b"]
        if a.reply_result is None or b.reply_result is None:
            return
        pair = pair_from_vote(vote, self.messages, a.text, b.text,
                              self.paths["a"], self.paths["b"])  # fmt: skip
        try:
            self.preferences.add(pair)
        except WRITE_ERRORS as exc:
            self.vote_status.setText(f"⚠ The vote could not be saved: {exc}")
            return
        self._set_voting(False)
        if vote == "tie":
            said = "A tie"
        else:
            said = f"{vote.upper()} ({display_name(self.paths[vote])}) preferred"
        self.vote_status.setText(f"✓ {said}: saved as a preference pair.")
        self._show_count()

    def _show_count(self) -> None:
        count = self.preferences.count()
        self.pairs_label.setText(f"{count:,} preference pair{'s' if count != 1 else ''} stored "
                                 "(the data RLHF learns from)")  # fmt: skip

    def export_pairs(self, path: str | Path) -> None:
        try:
            count = self.preferences.export_jsonl(path)
        except OSError as exc:
            self.vote_status.setText(f"⚠ Could not write {Path(path).name}: {exc}")
            return
        self.vote_status.setText(f"✓ {count} pairs written to {Path(path).name}.")

    def import_pairs(self, path: str | Path) -> None:
        try:
            added, known = self.preferences.import_jsonl(path)
        except PreferenceFileError as exc:
            self.vote_status.setText(f"⚠ {Path(path).name}: {exc} Nothing was imported.")
            return
        except WRITE_ERRORS as exc:
            self.vote_status.setText(f"⚠ The pairs could not be saved: {exc}")
            return
        again = f" ({known} were there already)" if known else ""
        self.vote_status.setText(f"✓ {added} pairs imported{again}.")
        self._show_count()

    @Slot()
    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export preference pairs",
                                              "preferences.jsonl", "JSONL (*.jsonl)")  # fmt: skip
        if path:
            self.export_pairs(path)

    @Slot()
    def _import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import preference pairs", "",
                                              "JSONL (*.jsonl);;All files (*)")  # fmt: skip
        if path:
            self.import_pairs(path)

    # ---- closing -------------------------------------------------------------------

    def reject(self) -> None:
        """Closing the window stops the round (the model loaded stays loaded)."""
        self.stop()
        super().reject()

    def shutdown(self) -> None:
        self.stop()
        self.preferences.close()

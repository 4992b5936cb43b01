"""The Post-train tab: turn a model into an assistant by supervised fine-tuning, on this
CPU — teach it who it is (the identity set), or to say "I don't know" (the Quiz tab's
refusal set), or anything written as conversations.

Left, what to do: the model, the data, the method and its cost, Start / Pause / Stop, the
earlier runs, the export and what to do with the exported model (chat with it, compare it
with the original, quiz it again). Right, what it looks like: the data token by token with
the learned tokens marked, the identity set maker, the curves and the model's answers to
held-out questions as it trains, and the two models' replies side by side.

The run is `PosttrainSession` (a worker thread over `finetune`, which is the Train tab's
`run_training` loop); the data is previewed first (`prepare` without the weights), so the
token view and the cost are there before Start.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.models.gguf_writer import FileType
from desktop.core.posttrain.chat_data import parse_conversation
from desktop.core.posttrain.gguf_weights import LlamaFacts
from desktop.core.posttrain.posttrain_runs import PosttrainRuns, new_posttrain_folder
from desktop.core.storage.data_problems import ReadOnlyDatabase
from desktop.core.train.compute import ThreadPolicy
from desktop.core.train.run_training import TrainingOutcome
from desktop.core.train.trainer import StepMetrics
from desktop.engine.finetune import FinetuneRequest, Prepared, data_key
from desktop.engine.jobs import Jobs
from desktop.engine.posttrain_session import PosttrainSession
from desktop.ui.posttrain.compare_page import ComparePage
from desktop.ui.posttrain.data_view import DataView
from desktop.ui.posttrain.earlier_runs import EarlierPosttrainRuns
from desktop.ui.posttrain.identity_page import IdentityPage
from desktop.ui.posttrain.method_settings import MethodSettings
from desktop.ui.posttrain.source_panel import IDENTITY, DataSource, SourcePanel
from desktop.ui.train.run_progress import RunProgress
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.pause_button import toggle_pause

PREVIEW_AFTER_MS = 400  # typing in the identity table: preview once it settles
DB_EVERY_S = 10.0


class PosttrainTab(QWidget):
    exported = Signal(str)  # a GGUF written into the library
    chat_requested = Signal(str)
    quiz_again_requested = Signal(int, str)  # the quiz run, the fine-tuned model
    running_changed = Signal(bool)

    def __init__(self, store: PosttrainRuns | None = None) -> None:
        super().__init__()
        self.store = store or PosttrainRuns()
        with contextlib.suppress(ReadOnlyDatabase):
            self.store.mark_interrupted()
        self.jobs = Jobs(self)
        self.session = PosttrainSession()
        self.sources = SourcePanel()
        self.facts_label = MessageLabel("")
        self.facts_label.setWordWrap(True)
        self.method = MethodSettings()
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.earlier = EarlierPosttrainRuns(self.store)
        self.export_type = QComboBox()
        self.export_type.addItems(["F16", "Q8_0", "F32"])
        self.export_type.setAccessibleName("Weights in the exported GGUF")
        self.export_button = QPushButton("Export GGUF")
        self.chat_button = QPushButton("Chat with it")
        self.compare_button = QPushButton("Compare with the original")
        self.quiz_button = QPushButton("Quiz again")
        self.quiz_button.setToolTip("Ask the exported model the quiz that made this refusal set, "
                                    "and compare the two runs")  # fmt: skip
        self.status = MessageLabel("Pick a model and data, then Start.")
        self.status.setWordWrap(True)
        self.data_view = DataView()
        self.identity = IdentityPage()
        self.progress = RunProgress()
        self.progress.figures.setWordWrap(True)  # a long line of figures never widens the tab
        self.compare = ComparePage()
        self.pages = QTabWidget()
        self.pages.addTab(self.data_view, "Data")
        self.pages.addTab(self.identity, "Identity set")
        self.pages.addTab(self.progress, "Training")
        self.pages.addTab(self.compare, "Compare")
        self.facts: LlamaFacts | None = None
        self.preview: Prepared | None = None  # the data as the chosen model reads it
        self.prepared: Prepared | None = None  # the run's (with its weights, while it lasts)
        self.outcome: TrainingOutcome | None = None
        self.run_id: int | None = None
        self.run_folder: Path | None = None
        self.quiz_run_id: int | None = None
        self.exported_path: Path | None = None
        self._chat_after_export = False
        self._last_eval: StepMetrics | None = None
        self._saved_at = 0.0
        self._preview_key: tuple[object, ...] = ()  # what the preview was made from
        self._phase = ""
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_AFTER_MS)
        self._layout()
        self._connect()
        self.identity.make()
        self.earlier.reload()
        self._set_running(False)

    def _layout(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.sources)
        column.addWidget(self.facts_label)
        column.addWidget(self.method)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        column.addLayout(buttons)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow: label above
        form.addRow("Earlier runs:", self.earlier)
        export = QHBoxLayout()
        export.addWidget(self.export_type)
        export.addWidget(self.export_button, 1)
        form.addRow("Export:", export)
        column.addLayout(form)
        after = QHBoxLayout()
        for button in (self.chat_button, self.quiz_button):
            after.addWidget(button)
        column.addLayout(after)
        column.addWidget(self.compare_button)
        column.addWidget(self.status)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)  # as wide as the pane; scrolls up and down only
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(360)
        split = QSplitter()
        split.addWidget(scroll)
        split.addWidget(self.pages)
        split.setSizes([380, 640])
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(split)

    def _connect(self) -> None:
        self.sources.model_changed.connect(self._on_model)
        self.sources.data_changed.connect(self._schedule_preview)
        self.sources.problem.connect(self.status.setText)
        self.identity.changed.connect(self._on_identity_changed)
        self.method.changed.connect(self._on_settings_changed)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.session.stop)
        self.export_button.clicked.connect(lambda: self.export())
        self.chat_button.clicked.connect(self._chat)
        self.compare_button.clicked.connect(self._compare)
        self.quiz_button.clicked.connect(self._quiz_again)
        self.earlier.open_button.clicked.connect(lambda: self.open_run())
        self.earlier.resume_button.clicked.connect(lambda: self.resume_run())
        self.session.phase.connect(self._on_phase)
        self.session.progressed.connect(self._on_progress)
        self.session.prepared.connect(self._on_prepared)
        self.session.metrics.connect(self._on_metrics)
        self.session.finished.connect(self._on_finished)
        self.session.failed.connect(self._on_failed)

    # ---- what to train, on what --------------------------------------------------

    def set_library(self, paths: list[Path]) -> None:
        self.sources.set_library(paths)

    def use_quiz_set(self, examples: list[dict[str, object]], quiz_run_id: int, model_path: str,
                     title: str) -> None:  # fmt: skip
        """ "Post-train on this" in the Quiz tab: its training set (reference answers where
        the model knew, refusals elsewhere), on the model it quizzed."""
        conversations = tuple(parse_conversation(e) for e in examples)
        refusals = sum(1 for c in conversations if "know" in c.messages[-1].content.lower())
        label = f"Quiz run #{quiz_run_id} on “{title}” ({len(conversations)}, {refusals} refusals)"
        self.sources.add_source(DataSource("quiz", label, conversations, quiz_run_id=quiz_run_id,
                                           quiz_model=model_path))  # fmt: skip
        if model_path and Path(model_path).exists():
            self.sources.choose_model(Path(model_path))
        self.pages.setCurrentWidget(self.data_view)
        self.status.setText(f"The Quiz tab's training set: {len(conversations)} conversations.")

    def add_conversation(self, messages: Sequence[Mapping[str, object]]) -> str | None:
        """ "Train on this conversation" in the Chat tab: added to the Chat tab's data set.
        Returns why not, for a conversation with nothing to learn."""
        try:
            conversation = parse_conversation({"messages": [dict(m) for m in messages]})
        except ValueError as exc:
            self.status.setText(f"⚠ That conversation cannot be learned from: {exc}.")
            return str(exc)
        before = self.sources.sources.get("chat")
        conversations = (before.conversations if before else ()) + (conversation,)
        label = f"Chat conversations ({len(conversations)})"
        self.sources.add_source(DataSource("chat", label, conversations))
        self.pages.setCurrentWidget(self.data_view)
        return None

    def request(self, folder: Path) -> FinetuneRequest | None:
        path = self.sources.model_path()
        if path is None:
            return None
        source = self.sources.source()
        conversations = source.conversations
        label = source.label
        if source.key == IDENTITY:
            conversations = tuple(self.identity.conversations())
            label = self.identity.label()
        return FinetuneRequest(path, conversations, self.method.settings(), folder, label,
                               source.bad_lines, source.quiz_run_id,
                               ThreadPolicy.LEAVE_A_CORE)  # fmt: skip

    @Slot(object)
    def _on_model(self, path: Path | None) -> None:
        self.facts, self.preview = None, None
        self.method.set_model(None)
        if path is None:
            return
        from desktop.core.posttrain.gguf_weights import read_llama_facts

        self.facts_label.setText(f"Reading {path.name}…")
        self.jobs.start("facts", lambda _c: read_llama_facts(path), done=self._on_facts,
                        failed=self._on_facts_failed)  # fmt: skip

    def _on_facts(self, facts: LlamaFacts) -> None:
        self.facts = facts
        s = facts.shape
        self.facts_label.setText(
            f"{facts.name}: llama, {s.n_layers} layers × {s.dim} wide, {s.n_heads} heads "
            f"({s.n_kv_heads} for keys and values), vocabulary {s.vocab_size:,}, context "
            f"{s.context_length:,}{', tied head' if s.tie_embeddings else ''}; "
            + ("its own chat template." if facts.chat_template else "no chat template: ChatML.")
        )
        self.method.set_model(facts)
        if not self.session.running:
            self.status.setText("Ready: Start fine-tunes it on the data shown.")
        self._schedule_preview()

    def _on_facts_failed(self, exc: BaseException) -> None:
        self.facts_label.setText(f"⚠ {exc}")
        self.data_view.clear("This model cannot be fine-tuned here.")
        self._set_running(False)

    @Slot()
    def _on_identity_changed(self) -> None:
        if self.sources.source().key == IDENTITY:
            self._schedule_preview()

    @Slot()
    def _on_settings_changed(self) -> None:
        request = self.request(Path())
        if request is not None and data_key(request) != self._preview_key:
            self._schedule_preview()  # the context, held-out share or seed changed

    @Slot()
    def _schedule_preview(self) -> None:
        self._preview_timer.start()

    @Slot()
    def refresh_preview(self) -> None:
        """Tokenize and mask the data with the model's own tokenizer, off the GUI thread."""
        request = self.request(new_preview_folder())
        if request is None or self.facts is None or self.session.running:
            return
        if not request.conversations:
            self.data_view.clear("No conversations yet: make an identity set or pick a file.")
            return
        from desktop.engine.finetune import prepare

        key = data_key(request)
        self.data_view.clear("Tokenizing with the model's own tokenizer…")
        self.jobs.start("preview", lambda control: (key, prepare(request, control, weights=False)),
                        done=self._on_preview, failed=self._on_preview_failed)  # fmt: skip

    def _on_preview(self, result: tuple[tuple[object, ...], Prepared]) -> None:
        self._preview_key, self.preview = result
        self._show_data(self.preview)
        self._set_running(False)

    def _on_preview_failed(self, exc: BaseException) -> None:
        self.preview = None
        self.data_view.clear(f"⚠ {exc}")
        self.method.set_data(None)
        self._set_running(False)

    def _show_data(self, prepared: Prepared) -> None:
        self.data_view.show_data(prepared.data, prepared.tokenizer, prepared.template_note)
        self.method.set_data(prepared.data)

    # ---- running -----------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        if self.session.running or self.facts is None:
            return
        folder = new_posttrain_folder()
        request = self.request(folder)
        if request is None or not request.conversations:
            folder.rmdir()
            self.status.setText("Pick a model and some conversations first.")
            return
        same = self.preview is not None and data_key(request) == self._preview_key
        preview = self.preview if same else None
        self.run_id = self.store.add(folder, str(request.model_path), request.data_label,
                                     request.settings.method, 0, request.quiz_run_id)  # fmt: skip
        self._begin(request, preview)

    def _begin(self, request: FinetuneRequest, preview: Prepared | None) -> None:
        self.run_folder, self.quiz_run_id = request.folder, request.quiz_run_id
        self.outcome, self.exported_path, self._last_eval = None, None, None
        self.progress.clear()
        self.compare.set_models(None)
        self.pages.setCurrentWidget(self.progress)
        self.session.start(request, preview)
        self.earlier.reload(self.run_id)
        self._set_running(True)

    @Slot()
    def toggle_pause(self) -> None:
        toggle_pause(self.session, self.pause_button, self.status)

    @Slot(str)
    def _on_phase(self, text: str) -> None:
        self._phase = text
        self.status.setText(text)

    @Slot(object, object)
    def _on_progress(self, done: int, total: int) -> None:
        self.status.setText(f"{self._phase} {done / max(total, 1):.0%}")

    @Slot(object)
    def _on_prepared(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self._show_data(prepared)

    @Slot(object)
    def _on_metrics(self, batch: list[StepMetrics]) -> None:
        if self.run_id is not None and batch and batch[0].step <= 1:
            self.store.update(self.run_id, steps=batch[0].total_steps, status="running")
        evals = [m for m in batch if m.val_loss is not None]
        if evals:
            self._last_eval = evals[-1]
            now = time.monotonic()
            if self.run_id is not None and now - self._saved_at > DB_EVERY_S:
                self._saved_at = now
                self.store.update(self.run_id, step=evals[-1].step, val_loss=evals[-1].val_loss)
        self.progress.add(batch, self._last_eval)

    @Slot(object)
    def _on_finished(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        self.progress.plots.settle()
        how = "Stopped" if outcome.stopped_early else "Done"
        self.status.setText(f"{how} at step {outcome.run.step}/{outcome.run.config.steps}: Chat "
                            "with it (it is exported first), or Export GGUF.")  # fmt: skip
        if self.run_id is not None:
            val = self._last_eval.val_loss if self._last_eval is not None else None
            self.store.update(self.run_id, status="stopped" if outcome.stopped_early else "done",
                              step=outcome.run.step, steps=outcome.run.config.steps,
                              val_loss=val)  # fmt: skip
        self.earlier.reload(self.run_id)
        self._set_running(False)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        from desktop.core.train.run_training import TrainingStopped

        stopped = isinstance(exc, TrainingStopped)
        self.status.setText("Stopped before training began." if stopped else f"⚠ {exc}")
        if self.run_id is not None:
            self.store.update(self.run_id, status="stopped" if stopped else "failed")
        self.prepared = None
        self.earlier.reload(self.run_id)
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.running_changed.emit(running)
        ready = self.facts is not None and not running
        self.start_button.setEnabled(ready)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.stop_button.setEnabled(running)
        self.sources.set_editable(not running)
        self.method.set_editable(not running)
        self.identity.setEnabled(not running)
        self.earlier.set_enabled(not running)
        can_export = not running and (self.outcome is not None) and self.run_folder is not None
        self.export_button.setEnabled(can_export and not self.jobs.running("export"))
        exported = not running and self.exported_path is not None
        # Chat with it exports first when needed, as the Train tab's one button does
        self.chat_button.setEnabled(exported or can_export)
        self.compare_button.setEnabled(exported)
        self.quiz_button.setEnabled(exported and self.quiz_run_id is not None)

    # ---- export and after --------------------------------------------------------

    def export(self, library: Path | None = None) -> None:
        """Write the fine-tuned model (LoRA merged) as a GGUF into the library."""
        from desktop.core.models.library_folders import download_folder

        if self.outcome is None or self.run_folder is None:
            return
        file_type = cast(FileType, self.export_type.currentText())
        target = export_path(self.run_folder, self.original_path(), file_type,
                             library or download_folder())  # fmt: skip
        target.parent.mkdir(parents=True, exist_ok=True)
        run, prepared, folder = self.outcome.run, self.prepared, self.run_folder
        self.status.setText(f"Exporting {target.name}…")
        self.export_button.setEnabled(False)

        def work(_control: object) -> Path:
            from desktop.engine.finetune import export_folder, export_run

            if prepared is not None and (
                prepared.info.settings.method == "full" or prepared.base is not None
            ):  # the weights are at hand
                return export_run(prepared, run, target, file_type)
            return export_folder(folder, target, file_type)  # a reopened run: read them

        self.jobs.start("export", work, done=self._on_exported, failed=self._on_export_failed)

    def original_path(self) -> Path | None:
        if self.prepared is not None:
            return self.prepared.facts.path
        return self.sources.model_path()

    def _on_exported(self, path: Path) -> None:
        self.exported_path = path
        chat_next, self._chat_after_export = self._chat_after_export, False
        self.status.setText(f"Exported {path.name} into the library: chat with it, compare it, "
                            "or quiz it again.")  # fmt: skip
        if self.run_id is not None:
            self.store.update(self.run_id, exported_path=str(path))
            self.earlier.reload(self.run_id)
        original = self.original_path()
        if original is not None:
            self.compare.set_models((original, path))
        self.exported.emit(str(path))
        self._set_running(self.session.running)
        if chat_next:
            self.chat_requested.emit(str(path))

    def _on_export_failed(self, exc: BaseException) -> None:
        self._chat_after_export = False
        self.status.setText(f"⚠ Export failed: {exc}")
        self._set_running(self.session.running)

    @Slot()
    def _chat(self) -> None:
        if self.exported_path is not None:
            self.chat_requested.emit(str(self.exported_path))
        elif self.outcome is not None and not self.jobs.running("export"):
            self._chat_after_export = True  # the model goes to the Chat tab once written
            self.export()

    @Slot()
    def _compare(self) -> None:
        self.pages.setCurrentWidget(self.compare)
        if self.prepared is not None and self.prepared.data.prompts:
            self.compare.prompt.setText(self.prepared.data.prompts[0].question)
        self.compare.ask()

    @Slot()
    def _quiz_again(self) -> None:
        if self.exported_path is not None and self.quiz_run_id is not None:
            self.quiz_again_requested.emit(self.quiz_run_id, str(self.exported_path))

    # ---- earlier runs ------------------------------------------------------------

    def open_run(self, run_id: int | None = None) -> bool:
        """Show an earlier run's curves and samples; it can then be exported or resumed."""
        from desktop.core.posttrain.sft_run import load_run, load_run_info

        run_id = run_id if run_id is not None else self.earlier.selected()
        if run_id is None or self.session.running:
            return False
        record = self.store.get(run_id)
        try:
            info = load_run_info(record.folder)
            run = load_run(record.folder)
        except (OSError, ValueError, KeyError) as exc:
            self.status.setText(f"⚠ Cannot open that run: {exc}")
            return False
        self.run_id, self.run_folder, self.quiz_run_id = record.id, record.folder, info.quiz_run_id
        self.prepared = None
        self.exported_path = Path(record.exported_path) if record.exported_path else None
        if self.exported_path is not None and not self.exported_path.exists():
            self.exported_path = None
        self.outcome = TrainingOutcome(run, None, record.folder, not run.done)
        self.progress.show_history(run.history)
        self.method.show_settings(info.settings)
        self.pages.setCurrentWidget(self.progress)
        original = Path(info.model_path)
        self.compare.set_models((original, self.exported_path) if self.exported_path else None)
        self.status.setText(f"Opened {record.folder.name}: step {run.step}/{run.config.steps} "
                            f"({info.data_label}).")  # fmt: skip
        self._set_running(False)
        return True

    def resume_run(self, run_id: int | None = None) -> bool:
        """Go on training an earlier run from its checkpoint, with its own model and data."""
        if not self.open_run(run_id) or self.outcome is None or self.run_folder is None:
            return False
        if self.outcome.run.done:
            self.status.setText("That run is finished: export it, or start a new one.")
            return False
        try:
            request = FinetuneRequest.resuming(self.run_folder, ThreadPolicy.LEAVE_A_CORE)
        except (OSError, ValueError) as exc:
            self.status.setText(f"⚠ Cannot resume that run: {exc}")
            return False
        if self.run_id is not None:
            self.store.update(self.run_id, status="running")
        history = self.outcome.run.history
        self._begin(request, None)
        self.progress.show_history(history)  # the curve goes on from where it was
        return True

    def shutdown(self) -> None:
        """Closing: stop the run (it saves itself) and record where it got to."""
        running = self.session.running
        self.session.shutdown()
        if running and self.run_id is not None:
            self.store.update(self.run_id, status="stopped")
        self.jobs.shutdown()
        self.store.close()


def new_preview_folder() -> Path:
    """A folder name for previews: never created, so never mistaken for a run to resume."""
    from desktop.core.storage.paths import data_dir

    return data_dir() / "posttrain" / ".preview"


def export_path(folder: Path, original: Path | None, file_type: FileType, library: Path) -> Path:
    """library/trained/<model>-sft-<run folder>[-type].gguf"""
    stem = original.stem if original is not None else "model"
    suffix = "" if file_type == "F16" else f"-{file_type}"
    return library / "trained" / f"{stem}-sft-{folder.name}{suffix}.gguf"

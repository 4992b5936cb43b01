"""The Train tab: pretrain a tiny llama-architecture model from scratch, watch its loss
fall and its samples turn from noise into text, then export it and chat with it.

The tab runs the training session and keeps the runs table up to date; its parts are
`RunSettings` (what to train), `EarlierRuns` (the runs to open or resume), `RunProgress`
(curves, figures, samples) and `GgufExport` (the export on a worker thread).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.models.gguf_writer import FileType
from desktop.core.storage.data_problems import ReadOnlyDatabase
from desktop.core.train.config import problems
from desktop.core.train.corpus import STDLIB, new_run_folder
from desktop.core.train.run_training import TrainingOutcome
from desktop.core.train.runs_store import RunRecord, RunsStore
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import StepMetrics, TrainingRun
from desktop.engine.training_session import TrainingSession
from desktop.ui.train.earlier_runs import EarlierRuns
from desktop.ui.train.gguf_export import GgufExport, gguf_path
from desktop.ui.train.run_progress import RunProgress
from desktop.ui.train.run_settings import RunSettings
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.pause_button import toggle_pause

DB_EVERY_S = 10.0  # progress written to the runs table at most this often while training


class TrainTab(QWidget):
    exported = Signal(str)  # path of the GGUF written
    chat_requested = Signal(str)
    running_changed = Signal(bool)  # a run keeps a core busy (llama.cpp leaves it one)

    def __init__(self, store: RunsStore | None = None) -> None:
        super().__init__()
        self.store = store or RunsStore()
        self.run_id: int | None = None
        self.session = TrainingSession()
        self.earlier_runs = EarlierRuns(self.store)
        self.runs = self.earlier_runs.combo  # the row's parts keep their names on the tab
        self.open_button = self.earlier_runs.open_button
        self.resume_button = self.earlier_runs.resume_button
        self.settings = RunSettings()
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.export_button = QPushButton("Export GGUF and chat with it")
        self.export_type = QComboBox()
        self.export_type.addItems(["F32", "F16", "Q8_0"])
        self.export_type.setToolTip(
            "Weights in the GGUF: F32 is exact; Q8_0 needs a width that is a multiple of 32"
        )
        self.by_tokens = QCheckBox("x axis: tokens seen")
        self.status = MessageLabel("Pick a corpus and a preset, then Start.")
        self.status.setWordWrap(True)
        self.progress = RunProgress()
        self.plots = self.progress.plots  # the pane's parts keep their names on the tab
        self.figures = self.progress.figures
        self.samples = self.progress.samples
        self.outcome: TrainingOutcome | None = None
        self.gguf_export = GgufExport(self)
        self._last_eval: StepMetrics | None = None
        self._saved_at = 0.0
        with contextlib.suppress(ReadOnlyDatabase):  # a read-only session: runs shown as left
            self.store.mark_interrupted()
        self._layout()
        self._connect()

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Earlier runs:", self.earlier_runs)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(form)
        left_layout.addWidget(self.settings)
        left_layout.addLayout(buttons)
        export_row = QHBoxLayout()
        export_row.addWidget(self.export_button, 1)
        export_row.addWidget(self.export_type)
        left_layout.addLayout(export_row)
        left_layout.addWidget(self.by_tokens)
        left_layout.addWidget(self.status)
        left_layout.addStretch(1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.progress)
        splitter.setSizes([330, 770])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._set_running(False)

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.session.stop)
        self.export_button.clicked.connect(lambda: self.export())
        self.gguf_export.written.connect(self._on_exported)
        self.gguf_export.failed.connect(self._export_failed)
        self.by_tokens.toggled.connect(self.plots.set_x_axis)
        self.session.phase.connect(self.status.setText)
        self.session.preparing.connect(
            lambda done, total: self.status.setText(
                f"Training the tokenizer… {done / max(total, 1):.0%} of the merges"
            )
        )
        self.session.metrics.connect(self._on_metrics)
        self.session.finished.connect(self._on_finished)
        self.session.failed.connect(self._on_failed)
        self.open_button.clicked.connect(lambda: self.open_run())
        self.resume_button.clicked.connect(lambda: self.resume_run())
        self._reload_runs()

    # ---- running ------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        config = self.settings.config()
        trouble = problems(config)
        if trouble:
            self.status.setText(f"⚠ {'; '.join(trouble)}")
            return
        reuse = self.settings.reused_tokenizer()
        try:
            tokenizer = TrainedTokenizer.load(reuse) if reuse else None
        except (OSError, ValueError) as exc:
            self.status.setText(f"⚠ Cannot read that tokenizer: {exc}")
            return
        if tokenizer is not None:
            config = replace(config, vocab_size=tokenizer.n_vocab)
        corpus = str(self.settings.corpus_file) if self.settings.corpus_file else STDLIB
        folder = new_run_folder()
        self.run_id = self.store.add(folder, corpus, config)  # listed before it starts
        self.progress.clear()
        self.outcome = None
        self._last_eval = None
        self.session.start(config, corpus, folder, tokenizer, prompt=self.settings.prompt.text())
        self._reload_runs()
        self._set_running(True)

    @Slot()
    def toggle_pause(self) -> None:
        toggle_pause(self.session, self.pause_button, self.status)

    @Slot(object)
    def _on_metrics(self, batch: list[StepMetrics]) -> None:
        evals = [m for m in batch if m.val_loss is not None]
        if evals:
            self._last_eval = evals[-1]
            now = time.monotonic()
            if self.run_id is not None and now - self._saved_at > DB_EVERY_S:
                self._saved_at = now  # a synced write: not 20 times a second
                self.store.update(self.run_id, step=evals[-1].step, val_loss=evals[-1].val_loss)
        self.progress.add(batch, self._last_eval)

    @Slot(object)
    def _on_finished(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        self._set_running(False)
        self.plots.settle()
        how = "Stopped" if outcome.stopped_early else "Done"
        self.status.setText(f"{how} at step {outcome.run.step}; saved in {outcome.folder}.")
        self._record_end(outcome.run, "stopped" if outcome.stopped_early else "done")
        self._reload_runs()

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.status.setText(f"⚠ Training stopped: {exc}")
        if self.run_id is not None:
            self.store.update(self.run_id, status="failed")
            self._reload_runs()

    def _record_end(self, run: TrainingRun, status: str) -> None:
        if self.run_id is None:
            return
        last = self._last_eval
        val = last.val_loss if last is not None else None
        self.store.update(self.run_id, status=status, step=run.step, val_loss=val)

    def _set_running(self, running: bool) -> None:
        self.running_changed.emit(running)
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.stop_button.setEnabled(running)
        self.export_button.setEnabled(not running and self.outcome is not None)
        self.settings.set_editable(not running)
        for widget in (self.runs, self.open_button, self.resume_button):
            widget.setEnabled(not running)

    # ---- export -------------------------------------------------------------------

    def export(self, folder: Path | None = None) -> None:
        """Write the model as a GGUF into the library, then open it in the Chat tab."""
        from desktop.core.models.library_folders import download_folder

        outcome = self.outcome
        if outcome is None:
            return
        file_type = cast(FileType, self.export_type.currentText())
        target = gguf_path(outcome, file_type, folder or download_folder())
        target.parent.mkdir(parents=True, exist_ok=True)
        self.status.setText(f"Exporting {target.name}…")
        self.export_button.setEnabled(False)
        self.gguf_export.start(outcome, target, file_type, self.run_id)

    @Slot(object)
    def _export_failed(self, exc: BaseException) -> None:
        self.status.setText(f"⚠ Export failed: {exc}")
        self._set_running(self.session.running)

    @Slot(object, object)
    def _on_exported(self, path: Path, run_id: int | None) -> None:
        self.status.setText(f"Exported {path} — it is in the library and opens in Chat.")
        self._set_running(self.session.running)
        if run_id is not None:
            self.store.update(run_id, exported_path=str(path))
            self._reload_runs()
        self.exported.emit(str(path))
        self.chat_requested.emit(str(path))

    # ---- earlier runs ---------------------------------------------------------------

    def _reload_runs(self) -> None:
        records = self.earlier_runs.reload(fallback=self.run_id)
        self.settings.set_reusable_tokenizers(
            [r.folder / "tokenizer.json" for r in records if (r.folder / "tokenizer.json").exists()]
        )

    def _load(self, run_id: int) -> tuple[RunRecord, TrainingRun, TrainedTokenizer] | None:
        record = self.store.get(run_id)
        try:
            run, tokenizer = self.earlier_runs.read(record)
        except (OSError, ValueError, KeyError) as exc:
            self.status.setText(f"⚠ Cannot open that run: {exc}")
            return None
        return record, run, tokenizer

    def open_run(self, run_id: int | None = None) -> bool:
        """Show an earlier run's curves; it can then be exported or resumed."""
        run_id = run_id if run_id is not None else self.runs.currentData()
        loaded = self._load(run_id) if run_id is not None and not self.session.running else None
        if loaded is None:
            return False
        record, run, tokenizer = loaded
        self.run_id = record.id
        self.progress.show_history(run.history)
        self.outcome = TrainingOutcome(run, tokenizer, record.folder, run.step < run.config.steps)
        self.status.setText(f"Opened {record.folder.name}: step {run.step}/{run.config.steps}.")
        self._set_running(False)
        return True

    def resume_run(self, run_id: int | None = None) -> bool:
        """Continue an earlier run from its checkpoint, on the same corpus and tokenizer."""
        if not self.open_run(run_id) or self.outcome is None or self.run_id is None:
            return False
        if self.outcome.run.done:
            self.status.setText("That run is finished: export it, or start a new one.")
            return False
        record = self.store.get(self.run_id)
        run, tokenizer = self.outcome.run, self.outcome.tokenizer
        prompt = self.settings.prompt.text()
        self.session.start(run.config, record.corpus, record.folder, tokenizer, run, prompt)
        self.store.update(record.id, status="running")
        self._set_running(True)
        return True

    def shutdown(self) -> None:
        """Closing: stop the run (it saves itself), and record where it got to."""
        self.session.shutdown()
        if self.session.run is not None and self.session.running:
            self._record_end(self.session.run, "stopped")
        self.store.close()

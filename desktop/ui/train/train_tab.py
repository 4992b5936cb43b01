"""The Train tab: pretrain a tiny llama-architecture model from scratch, watch its loss
fall and its samples turn from noise into text, then export it and chat with it."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.formatting import format_bytes, format_count, format_duration
from desktop.core.paths import data_dir
from desktop.core.train.config import PRESETS, TrainConfig, parameter_count, training_memory_bytes
from desktop.core.train.trainer import StepMetrics
from desktop.engine.background import BackgroundJob
from desktop.engine.training_session import TrainingOutcome, TrainingSession
from desktop.ui.train.training_plots import TrainingPlots

STDLIB = "Python standard library docs (built in)"


class TrainTab(QWidget):
    exported = Signal(str)  # path of the GGUF written
    chat_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.session = TrainingSession()
        self.corpus = QComboBox()
        self.corpus.addItems([STDLIB, "Text file…"])
        self.corpus_file: Path | None = None
        self.corpus_label = QLabel("")
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.spins = {
            "n_layers": _spin(1, 12), "dim": _spin(16, 512, 16), "n_heads": _spin(1, 16),
            "context": _spin(16, 512, 16), "batch_size": _spin(1, 128),
            "steps": _spin(10, 100_000, 50), "vocab_size": _spin(260, 8192, 64),
        }  # fmt: skip
        self.learning_rate = QDoubleSpinBox(decimals=4, minimum=1e-4, maximum=0.1, singleStep=1e-3)
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("a prompt the samples continue (empty: from nothing)")
        self.temperature = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=2.0, singleStep=0.1)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.export_button = QPushButton("Export GGUF and chat with it")
        self.status = QLabel("Pick a corpus and a preset, then Start.")
        self.status.setWordWrap(True)
        self.plots = TrainingPlots()
        self.figures = QLabel("")
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.samples = QListWidget()
        self.samples.setWordWrap(True)
        self.outcome: TrainingOutcome | None = None
        self._export_job: BackgroundJob | None = None
        self._layout()
        self._connect()
        self._apply_preset("tiny")

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Corpus:", self.corpus)
        form.addRow("", self.corpus_label)
        form.addRow("Preset:", self.preset)
        labels = {"n_layers": "Layers:", "dim": "Width:", "n_heads": "Heads:",
                  "context": "Context:", "batch_size": "Batch:", "steps": "Steps:",
                  "vocab_size": "Vocabulary:"}  # fmt: skip
        for key, spin in self.spins.items():
            form.addRow(labels[key], spin)
        form.addRow("Learning rate:", self.learning_rate)
        form.addRow("Sample prompt:", self.prompt)
        form.addRow("Temperature:", self.temperature)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(form)
        left_layout.addWidget(self.summary)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.export_button)
        left_layout.addWidget(self.status)
        left_layout.addStretch(1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plots)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.figures)
        bottom_layout.addWidget(QLabel("<b>Samples</b> (the model writing, as it learns)"))
        bottom_layout.addWidget(self.samples, 1)
        right.addWidget(bottom)
        right.setSizes([420, 260])
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([330, 770])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._set_running(False)

    def _connect(self) -> None:
        self.preset.currentTextChanged.connect(self._apply_preset)
        self.corpus.activated.connect(self._on_corpus)
        for spin in self.spins.values():
            spin.valueChanged.connect(lambda _v: self._update_summary())
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.session.stop)
        self.export_button.clicked.connect(lambda: self.export())
        self.session.phase.connect(self.status.setText)
        self.session.metrics.connect(self._on_metrics)
        self.session.finished.connect(self._on_finished)
        self.session.failed.connect(self._on_failed)

    # ---- settings -----------------------------------------------------------------

    @Slot(str)
    def _apply_preset(self, name: str) -> None:
        config = PRESETS[name]
        for key, spin in self.spins.items():
            spin.setValue(int(getattr(config, key)))
        self.learning_rate.setValue(config.learning_rate)
        self.temperature.setValue(config.temperature)
        self._update_summary()

    def config(self) -> TrainConfig:
        values: dict[str, Any] = {key: spin.value() for key, spin in self.spins.items()}
        base = PRESETS[self.preset.currentText()]
        heads = max(1, min(values.pop("n_heads"), values["dim"]))
        while values["dim"] % heads:  # the width must split evenly into heads
            heads -= 1
        return replace(base, **values, n_heads=heads, n_kv_heads=heads,
                       ffn_dim=_ffn(values["dim"]), learning_rate=self.learning_rate.value(),
                       min_learning_rate=self.learning_rate.value() / 10,
                       temperature=self.temperature.value())  # fmt: skip

    def _update_summary(self) -> None:
        config = self.config()
        params = parameter_count(config)
        tokens = config.steps * config.tokens_per_step
        self.summary.setText(
            f"<b>{format_count(params)}</b> parameters · about "
            f"{format_bytes(training_memory_bytes(config))} of memory · "
            f"{format_count(tokens)} tokens seen = {tokens / params:.1f} per parameter"
        )

    @Slot(int)
    def _on_corpus(self, index: int) -> None:
        if self.corpus.itemText(index) == STDLIB:
            self.corpus_file = None
            self.corpus_label.setText("")
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "A text corpus", "", "Text (*.txt *.md);;All (*)"
        )
        if path:
            self.set_corpus_file(Path(path))
        else:
            self.corpus.setCurrentText(STDLIB)

    def set_corpus_file(self, path: Path | None) -> None:
        self.corpus_file = path
        if path is not None:
            self.corpus.setItemText(1, path.name)
            self.corpus.setCurrentIndex(1)
            self.corpus_label.setText(f"{format_bytes(path.stat().st_size)} of text")

    # ---- running ------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        from desktop.core.train.corpus import read_corpus_files, stdlib_corpus

        self.status.setText("Reading the corpus…")
        try:
            text = read_corpus_files([self.corpus_file]) if self.corpus_file else stdlib_corpus()
        except OSError as exc:
            self.status.setText(f"⚠ Cannot read the corpus: {exc}")
            return
        self.corpus_label.setText(f"{len(text):,} characters")
        self.plots.clear()
        self.samples.clear()
        self.outcome = None
        folder = data_dir() / "runs" / time.strftime("%Y%m%d-%H%M%S")
        self.session.start(self.config(), text, folder, prompt=self.prompt.text())
        self._set_running(True)

    @Slot()
    def toggle_pause(self) -> None:
        if self.session.paused:
            self.session.resume()
            self.pause_button.setText("Pause")
            self.status.setText("Training…")
        else:
            self.session.pause()
            self.pause_button.setText("Resume")
            self.status.setText("Paused: Resume continues, Stop saves and ends.")

    @Slot(object)
    def _on_metrics(self, batch: list[StepMetrics]) -> None:
        for m in batch:
            self.plots.add(m)
            if m.sample is not None:
                copied = f" · {m.regurgitation:.0%} copied" if m.regurgitation is not None else ""
                self.samples.insertItem(0, f"step {m.step}{copied}: {m.sample}")
        self._show_figures(batch[-1])

    def _show_figures(self, m: StepMetrics) -> None:
        gap = ""
        history = self.session.run.history if self.session.run else []
        evals = [p for p in history if "val_loss" in p]
        if evals:
            last = evals[-1]
            gap = (f" · validation {last['val_loss']:.3f} (gap "
                   f"{last['val_loss'] - last['train_eval_loss']:+.3f})")  # fmt: skip
        self.figures.setText(
            f"step {m.step:,}/{m.total_steps:,} · {format_count(m.tokens_seen)} tokens · "
            f"loss {m.loss:.3f}{gap} · {m.tokens_per_s:,.0f} tokens/s · "
            f"{format_duration(m.elapsed_s)} elapsed · ETA {format_duration(m.eta_s)}"
        )

    @Slot(object)
    def _on_finished(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        self._set_running(False)
        how = "Stopped" if outcome.stopped_early else "Done"
        self.status.setText(f"{how} at step {outcome.run.step}; saved in {outcome.folder}.")

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.status.setText(f"⚠ Training stopped: {exc}")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.stop_button.setEnabled(running)
        self.export_button.setEnabled(not running and self.outcome is not None)
        self.preset.setEnabled(not running)
        for spin in self.spins.values():
            spin.setEnabled(not running)

    # ---- export -------------------------------------------------------------------

    def export(self, folder: Path | None = None) -> None:
        """Write the model as a GGUF into the library, then open it in the Chat tab."""
        from desktop.core.library_folders import download_folder
        from desktop.core.train.trainer import export_gguf

        outcome = self.outcome
        if outcome is None:
            return
        target = (folder or download_folder()) / "trained" / f"{outcome.folder.name}.gguf"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.status.setText(f"Exporting {target.name}…")
        job = BackgroundJob(
            lambda _c: export_gguf(outcome.run, outcome.tokenizer, target,
                                   name=f"deepdive-{outcome.folder.name}"),
            name="export",
        )  # fmt: skip
        job.succeeded.connect(self._on_exported)
        job.failed.connect(lambda exc: self.status.setText(f"⚠ Export failed: {exc}"))
        self._export_job = job.start()

    @Slot(object)
    def _on_exported(self, path: Path) -> None:
        self.status.setText(f"Exported {path} — it is in the library and opens in Chat.")
        self.exported.emit(str(path))
        self.chat_requested.emit(str(path))

    def shutdown(self) -> None:
        self.session.shutdown()


def _spin(low: int, high: int, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    return spin


def _ffn(dim: int) -> int:
    """llama's MLP width: about 8/3 of the model width."""
    return max(8, (8 * dim // 3 + 3) // 4 * 4)

"""The Train tab's settings: corpus, model shape (preset or custom), learning rate and
sampling — with the parameter count, memory and tokens per parameter shown before Start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.formatting import format_bytes, format_count
from desktop.core.train.compute import ThreadPolicy, plan_compute
from desktop.core.train.config import (
    PRESETS,
    TrainConfig,
    ffn_width,
    fit_schedule,
    problems,
    training_memory_bytes,
)
from desktop.core.train.model import parameter_count
from desktop.ui.widgets.message_label import MessageLabel

STDLIB_LABEL = "Python standard library docs (built in)"
LABELS = {"n_layers": "Layers:", "dim": "Width:", "n_heads": "Heads:", "context": "Context:",
          "batch_size": "Batch:", "steps": "Steps:", "vocab_size": "Vocabulary:"}  # fmt: skip


class RunSettings(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.corpus = QComboBox()
        self.corpus.addItems([STDLIB_LABEL, "Text file…"])
        self.corpus_file: Path | None = None
        self.corpus_label = MessageLabel("")
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.spins = {
            "n_layers": _spin(1, 12), "dim": _spin(16, 512, 16), "n_heads": _spin(1, 16),
            "context": _spin(16, 2048, 16), "batch_size": _spin(1, 128),
            "steps": _spin(10, 100_000, 50), "vocab_size": _spin(260, 8192, 64),
        }  # fmt: skip
        self.learning_rate = QDoubleSpinBox(decimals=4, minimum=1e-4, maximum=0.1, singleStep=1e-3)
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("a prompt the samples continue (empty: from nothing)")
        self.temperature = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=2.0, singleStep=0.1)
        self.tokenizer = QComboBox()
        self.tokenizer.addItem("Train a new one on the corpus", None)
        self.summary = MessageLabel("")
        self.summary.setWordWrap(True)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Corpus:", self.corpus)
        form.addRow("", self.corpus_label)
        form.addRow("Tokenizer:", self.tokenizer)
        form.addRow("Preset:", self.preset)
        for key, spin in self.spins.items():
            form.addRow(LABELS[key], spin)
        form.addRow("Learning rate:", self.learning_rate)
        form.addRow("Sample prompt:", self.prompt)
        form.addRow("Temperature:", self.temperature)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        self.preset.currentTextChanged.connect(self._apply_preset)
        self.corpus.activated.connect(self._on_corpus)
        for spin in self.spins.values():
            spin.valueChanged.connect(lambda _v: self._update_summary())
        self._apply_preset("tiny")

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
        while values["dim"] % heads or (values["dim"] // heads) % 2:  # even head widths
            heads -= 1
        return fit_schedule(replace(base, **values, n_heads=heads, n_kv_heads=heads,
                       ffn_dim=ffn_width(values["dim"]), learning_rate=self.learning_rate.value(),
                       min_learning_rate=self.learning_rate.value() / 10,
                       temperature=self.temperature.value()))  # fmt: skip

    def _update_summary(self) -> None:
        config = self.config()
        trouble = problems(config)
        if trouble:
            self.summary.setText(f'<span style="color:#a40000">⚠ {"; ".join(trouble)}</span>')
            return
        params = parameter_count(config.shape())
        tokens = config.steps * config.tokens_per_step
        rows = plan_compute(config, ThreadPolicy.LEAVE_A_CORE).micro_rows  # what the tab runs
        self.summary.setText(
            f"<b>{format_count(params)}</b> parameters · about "
            f"{format_bytes(training_memory_bytes(config, rows))} of memory · "
            f"{format_count(tokens)} tokens seen = {tokens / params:.1f} per parameter"
        )

    @Slot(int)
    def _on_corpus(self, index: int) -> None:
        if self.corpus.itemText(index) == STDLIB_LABEL:
            self.corpus_file = None
            self.corpus_label.setText("")
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "A text corpus", "", "Text (*.txt *.md);;All (*)"
        )
        if path:
            self.set_corpus_file(Path(path))
        else:
            self.corpus.setCurrentText(STDLIB_LABEL)

    def set_corpus_file(self, path: Path | None) -> None:
        self.corpus_file = path
        if path is not None:
            self.corpus.setItemText(1, path.name)
            self.corpus.setCurrentIndex(1)
            self.corpus_label.setText(f"{format_bytes(path.stat().st_size)} of text")

    def set_editable(self, editable: bool) -> None:
        widgets = (self.corpus, self.tokenizer, self.preset, *self.spins.values(),
                   self.learning_rate)  # fmt: skip
        for widget in widgets:
            widget.setEnabled(editable)

    def set_reusable_tokenizers(self, files: list[Path]) -> None:
        """Earlier runs' tokenizers, to train a new model on the same tokens."""
        current = self.tokenizer.currentData()
        self.tokenizer.clear()
        self.tokenizer.addItem("Train a new one on the corpus", None)
        for file in files:
            self.tokenizer.addItem(f"Reuse {file.parent.name}'s", str(file))
        self.tokenizer.setCurrentIndex(max(0, self.tokenizer.findData(current)))

    def reused_tokenizer(self) -> Path | None:
        data = self.tokenizer.currentData()
        return Path(data) if data else None


def _spin(low: int, high: int, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    return spin

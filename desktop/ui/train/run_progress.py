"""The Train tab's right-hand pane: the live curves above; below them one line of figures
(step, loss, validation gap, speed, time left) and the samples the model writes as it
learns, newest first."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from desktop.core.formatting import format_count, format_duration
from desktop.core.train.trainer import StepMetrics
from desktop.ui.train.sample_list import SampleList
from desktop.ui.train.training_plots import TrainingPlots


class RunProgress(QSplitter):
    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.plots = TrainingPlots()
        self.figures = QLabel("")
        self.figures.setWordWrap(True)  # step, tokens, losses, ETA: wider than the column
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.samples = SampleList()
        self.samples.setAccessibleName("Samples the model wrote while training")
        self._last_copied: float | None = None  # how much of the latest sample is copied
        self.addWidget(self.plots)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.figures)
        bottom_layout.addWidget(QLabel("<b>Samples</b> (the model writing, as it learns)"))
        bottom_layout.addWidget(self.samples, 1)
        self.addWidget(bottom)
        self.setSizes([420, 260])

    def clear(self) -> None:
        self.plots.clear()
        self.samples.clear()
        self._last_copied = None  # a new run's figures say nothing about the last one

    def add(self, batch: list[StepMetrics], last_eval: StepMetrics | None) -> None:
        """New steps from the run; `last_eval` is its latest step with a validation loss."""
        for m in batch:
            self.plots.add(m)
            if m.regurgitation is not None:
                self._last_copied = m.regurgitation
            if m.sample is not None:
                self._add_sample(m.step, m.sample, m.regurgitation)
        self._show_figures(batch[-1], last_eval)

    def show_history(self, history: list[dict[str, Any]]) -> None:
        """A saved run's curves and samples, as its checkpoint recorded them."""
        self.plots.set_history(history)
        self.samples.clear()
        for point in history:
            if "sample" in point:
                self._add_sample(point["step"], point["sample"], point.get("regurgitation"))

    def _add_sample(self, step: int, text: str, copied: float | None) -> None:
        self.samples.add_sample(step, text, copied)

    def _show_figures(self, m: StepMetrics, last: StepMetrics | None) -> None:
        gap = ""
        if last is not None and last.val_loss is not None and last.train_eval_loss is not None:
            gap = (f" · validation {last.val_loss:.3f} (gap "
                   f"{last.val_loss - last.train_eval_loss:+.3f})")  # fmt: skip
        if self._last_copied is not None:
            gap += f" · samples {self._last_copied:.0%} copied"
        self.figures.setText(
            f"step {m.step:,}/{m.total_steps:,} · {format_count(m.tokens_seen)} tokens · "
            f"loss {m.loss:.3f}{gap} · {m.tokens_per_s:,.0f} tokens/s · "
            f"{format_duration(m.elapsed_s)} elapsed · ETA {format_duration(m.eta_s)}"
        )

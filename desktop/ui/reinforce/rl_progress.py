"""The RL page's right-hand pane: four live plots — held-out pass@1 and pass@K; reward and
the share of groups with nothing to learn; answer length; and the AlphaGo comparison,
pass@1 against training time for RL and for more SFT — a line of figures, and the graded
answers before RL and now."""

from __future__ import annotations

from collections import deque
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from desktop.core.formatting import format_duration
from desktop.core.train.trainer import StepMetrics
from desktop.ui.reinforce.graded_samples import GradedSamples
from desktop.ui.reinforce.live_curves import LiveCurves

BLUE, ORANGE, GREEN, GREY, PURPLE = "#1F5FAD", "#E0620D", "#2E7D32", "#8A8A8A", "#6A3D9A"
RUNNING_MEAN = 10  # steps the training batches' figures are averaged over


class RLProgress(QSplitter):
    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.passes = LiveCurves("Held-out questions", "share right", "RL step",
                                 {"pass@1": (BLUE, False), "pass@K": (ORANGE, True)},
                                 y_range=(0, 1))  # fmt: skip
        self.reward = LiveCurves("Practice answers", "share", "RL step",
                                 {"mean reward": (GREEN, False),
                                  "groups all alike": (GREY, True)}, y_range=(0, 1))  # fmt: skip
        self.length = LiveCurves("Answer length (held out)", "tokens", "RL step",
                                 {"mean length": (PURPLE, False)})  # fmt: skip
        self.compare = LiveCurves("RL or more SFT? (AlphaGo)", "pass@1", "training seconds",
                                  {"RL": (BLUE, False), "more SFT": (ORANGE, True)},
                                  y_range=(0, 1))  # fmt: skip
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for i, plot in enumerate((self.passes, self.reward, self.length, self.compare)):
            grid.addWidget(plot, i // 2, i % 2)
        self.figures = QLabel("")
        self.figures.setWordWrap(True)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.samples = GradedSamples()
        bottom = QWidget()
        column = QVBoxLayout(bottom)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.figures)
        column.addWidget(self.samples, 1)
        self.addWidget(grid_widget)
        self.addWidget(bottom)
        self.setSizes([380, 240])
        self._recent: deque[tuple[float, float]] = deque(maxlen=RUNNING_MEAN)
        self._baseline: dict[str, Any] = {}

    def clear(self, *, keep_comparison: bool = False) -> None:
        self.passes.clear()
        self.reward.clear()
        self.length.clear()
        if not keep_comparison:
            self.compare.clear()
        self.samples.clear()
        self.figures.setText("")
        self._recent.clear()

    def baseline(self, figures: dict[str, Any], *, what: str = "Before RL") -> None:
        """The start model's figures: step 0 of every curve, and the answers before."""
        self._baseline = figures
        self._evaluation(0, figures)
        self.compare.add("RL", 0, figures.get("pass_at_1"))
        self.samples.show_before(figures.get("samples", []), what)

    def step(self, m: StepMetrics) -> None:
        f = m.figures
        if "train_reward" in f:
            self._recent.append((f["train_reward"], f["train_zero_signal"]))
            rewards, alike = zip(*self._recent, strict=True)
            self.reward.add("mean reward", m.step, sum(rewards) / len(rewards))
            self.reward.add("groups all alike", m.step, sum(alike) / len(alike))
        if m.evaluated:
            self._evaluation(m.step, f)
            self.compare.add("RL", m.elapsed_s, f.get("pass_at_1"))
            self.samples.show_now(f.get("samples", []), f"After {m.step} RL steps")
        self._show_figures(m)

    def more_sft(self, m: StepMetrics) -> None:
        if m.evaluated:
            if not self.compare.data("more SFT")[0]:
                self.compare.add("more SFT", 0, self._baseline.get("pass_at_1"))
            self.compare.add("more SFT", m.figures["train_s"], m.figures.get("pass_at_1"))
            self.figures.setText(
                f"More SFT: {format_duration(m.figures['train_s'])} · pass@1 "
                f"{m.figures.get('pass_at_1', 0):.0%} · shows its working "
                f"{m.figures.get('shows_work', 0):.0%} of the time"
            )

    def _evaluation(self, step: int, f: dict[str, Any]) -> None:
        self.passes.add("pass@1", step, f.get("pass_at_1"))
        self.passes.add("pass@K", step, f.get("pass_at_k"))
        self.length.add("mean length", step, f.get("mean_length"))

    def _show_figures(self, m: StepMetrics) -> None:
        f, base = m.figures, self._baseline
        held = ""
        if "pass_at_1" in f:
            self._last_eval = f
        last = getattr(self, "_last_eval", None)
        if last is not None:
            held = (
                f" · held out: pass@1 {last['pass_at_1']:.0%} (start "
                f"{base.get('pass_at_1', 0):.0%}), pass@{last.get('k', '?')} "
                f"{last['pass_at_k']:.0%}, shows its working "
                f"{last.get('shows_work', 0):.0%}, {last['mean_length']:.0f} tokens"
            )
        self.figures.setText(
            f"step {m.step}/{m.total_steps} · {format_duration(m.elapsed_s)} training"
            f"{held} · ETA {format_duration(m.eta_s)}"
        )

    def show_history(
        self, history: list[dict[str, Any]], *, before: dict[str, Any] | None = None
    ) -> None:
        """A saved RL run's curves, as its checkpoint recorded them; `before`: the start
        model's figures (step 0), which the checkpoint does not hold."""
        self.clear()
        if before:
            self.baseline(before)
        for point in history:
            if "train_reward" in point:
                self.reward.add("mean reward", point["step"], point["train_reward"])
                self.reward.add("groups all alike", point["step"], point["train_zero_signal"])
            if "pass_at_1" in point:
                self._evaluation(point["step"], point)
                self.samples.show_now(point.get("samples", []), f"After {point['step']} steps")

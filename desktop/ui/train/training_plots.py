"""The Train tab's live curves: loss on top (raw, smoothed, validation), learning rate below.

Training yields a step every few milliseconds, so `add` only writes into preallocated
arrays; a 50 ms single-shot timer then hands whatever changed to the curves, which were
created once. Painting stays cheap at 20 000 points because the plots clip to the view
and downsample ("peak" keeps the spikes a mean would hide). The x axis grows in steps
(to the next 1, 2 or 5 × 10^k) instead of with every new point: an axis whose range
changes lays out its tick labels again, and that was a third of every repaint (the
window's worst stalls while training).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QTimer, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.core.train.trainer import StepMetrics
from desktop.ui.widgets.plot_fonts import follow_app_font

SMOOTHING = 0.05  # EMA weight of the newest loss: about the last 20 steps matter
DRAIN_MS = 50
TRAIN_COLOUR = "#9DC3E6"  # raw loss: thin and light, the noise behind the trend
SMOOTHED_COLOUR = "#1F5FAD"
VALIDATION_COLOUR = "#E0620D"
LR_COLOUR = "#2E7D32"
AXIS_COLOUR = "#404040"
GRID_ALPHA = 0.15
LEFT_AXIS_WIDTH = 64  # pixels at 9 pt
LOSS_LABEL = "loss (cross-entropy, nats)"
CURVES = ("train", "smoothed", "validation", "learning rate")


class _Column:
    """A growable float64 column: amortised O(1) appends, a view for drawing."""

    def __init__(self) -> None:
        self._data = np.zeros(1024)
        self.size = 0

    def append(self, value: float) -> None:
        if self.size == len(self._data):
            self._data = np.concatenate([self._data, np.zeros(len(self._data))])
        self._data[self.size] = value
        self.size += 1

    def clear(self) -> None:
        self.size = 0

    def view(self) -> np.ndarray:
        return self._data[: self.size]


class TrainingPlots(QWidget):
    """Loss (train raw, train smoothed, validation) and learning rate, live."""

    def __init__(self) -> None:
        super().__init__()
        pg.setConfigOptions(antialias=True)
        self._by_tokens = False
        self._ema = 0.0  # biased running average; divided by (1 - (1-α)^n) when stored
        self._steps, self._tokens = _Column(), _Column()
        self._loss, self._smoothed, self._lr = _Column(), _Column(), _Column()
        self._val_steps, self._val_tokens, self._val_loss = _Column(), _Column(), _Column()
        self._dirty = False
        self._x_right: float | None = None  # the stepped x range's end, while following
        self._follow = True  # False once the user pans or zooms: their view stays
        self._settled = False  # a finished run: the x axis fits the curve, no room to grow

        self._loss_plot = _plot()
        self._lr_plot = _plot()
        self._loss_plot.setLabel("left", LOSS_LABEL)
        self._lr_plot.setLabel("left", "learning rate")
        self._lr_plot.setXLink(self._loss_plot)
        legend = self._loss_plot.addLegend(
            offset=(-10, 10), labelTextColor=AXIS_COLOUR, brush=(255, 255, 255, 220), pen="#C8C8C8"
        )
        legend.setZValue(10)
        follow_app_font(self._loss_plot, left_width=LEFT_AXIS_WIDTH)
        follow_app_font(self._lr_plot, left_width=LEFT_AXIS_WIDTH)

        item = self._loss_plot.getPlotItem()
        self._curves: dict[str, Any] = {
            "train": item.plot(name="train loss", pen=pg.mkPen(TRAIN_COLOUR, width=1)),
            "smoothed": item.plot(
                name="train loss (smoothed)", pen=pg.mkPen(SMOOTHED_COLOUR, width=2.5)
            ),
            "validation": item.plot(
                name="validation loss",
                pen=pg.mkPen(VALIDATION_COLOUR, width=2),
                symbol="o",
                symbolSize=6,
                symbolPen=pg.mkPen(VALIDATION_COLOUR),
                symbolBrush=pg.mkBrush("#FFFFFF"),
            ),
            "learning rate": self._lr_plot.getPlotItem().plot(
                name="learning rate", pen=pg.mkPen(LR_COLOUR, width=2)
            ),
        }
        self._set_x_label()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._loss_plot, 3)
        layout.addWidget(self._lr_plot, 1)
        self._fit_lr_height()

        for plot in (self._loss_plot, self._lr_plot):
            plot.getViewBox().sigRangeChangedManually.connect(self._stop_following)
        self._step_x_range(0.0)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DRAIN_MS)
        self._timer.timeout.connect(self._drain)

    def add(self, metrics: StepMetrics) -> None:
        """Record one step; drawing waits for the timer, so this costs a few appends."""
        self._settled = False
        self._append(
            metrics.step,
            metrics.tokens_seen,
            metrics.loss,
            metrics.learning_rate,
            metrics.val_loss,
        )
        self._schedule()

    def set_history(self, points: list[dict[str, Any]]) -> None:
        """Replace everything with a saved run's history (the trainer's `_point` dicts)."""
        self._reset()
        for p in points:
            self._append(p["step"], p["tokens"], p["loss"], p["lr"], p.get("val_loss"))
        self.settle()

    def settle(self) -> None:
        """The run is over (or a saved one is shown): draw what is pending, and fit the x
        axis to the curve instead of leaving room for steps that will not come."""
        self._settled = True
        self._redraw(fit=True)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._fit_lr_height()
        super().changeEvent(event)

    def _fit_lr_height(self) -> None:
        """Room for four tick numbers, the axis and its whole label, at any zoom."""
        metrics = QFontMetrics(self.font())
        label = metrics.horizontalAdvance("learning rate") + 3 * metrics.height()
        self._lr_plot.setMinimumHeight(max(7 * metrics.height(), label))

    def clear(self) -> None:
        self._settled = False
        self._reset()
        self._redraw(fit=True)

    def set_x_axis(self, by_tokens: bool) -> None:
        """x = tokens seen (compares runs of different batch sizes) or optimiser steps."""
        if by_tokens == self._by_tokens:
            return
        self._by_tokens = by_tokens
        self._set_x_label()
        self._redraw(fit=True)  # the old x range means nothing on the new axis

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) a curve holds now, before clipping and downsampling; for tests."""
        x, y = self._curves[name].getOriginalDataset()
        if x is None or y is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(x), np.asarray(y)

    def _append(
        self, step: int, tokens: int, loss: float, lr: float, val_loss: float | None
    ) -> None:
        self._steps.append(step)
        self._tokens.append(tokens)
        self._loss.append(loss)
        self._lr.append(lr)
        # bias-corrected EMA: starts at the first loss instead of creeping up from zero
        self._ema = (1 - SMOOTHING) * self._ema + SMOOTHING * loss
        self._smoothed.append(self._ema / (1 - (1 - SMOOTHING) ** self._loss.size))
        if val_loss is not None:
            self._val_steps.append(step)
            self._val_tokens.append(tokens)
            self._val_loss.append(val_loss)

    def _reset(self) -> None:
        self._timer.stop()
        self._ema = 0.0
        for column in (
            self._steps,
            self._tokens,
            self._loss,
            self._smoothed,
            self._lr,
            self._val_steps,
            self._val_tokens,
            self._val_loss,
        ):
            column.clear()

    def _schedule(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _drain(self) -> None:
        if self._dirty:
            self._redraw()

    def _redraw(self, *, fit: bool = False) -> None:
        self._dirty = False
        x = (self._tokens if self._by_tokens else self._steps).view()
        val_x = (self._val_tokens if self._by_tokens else self._val_steps).view()
        # copies: the columns keep growing in place under the curves' feet
        self._curves["train"].setData(x.copy(), self._loss.view().copy())
        self._curves["smoothed"].setData(x.copy(), self._smoothed.view().copy())
        self._curves["validation"].setData(val_x.copy(), self._val_loss.view().copy())
        self._curves["learning rate"].setData(x.copy(), self._lr.view().copy())
        if fit:
            self._follow, self._x_right = True, None
            self._loss_plot.enableAutoRange(y=True)
            self._lr_plot.enableAutoRange(y=True)
        if self._follow:
            self._step_x_range(float(x[-1]) if len(x) else 1.0)

    def _step_x_range(self, last: float) -> None:
        right = max(last, 1.0) * 1.02 if self._settled else stepped_end(last)
        if right != self._x_right:
            self._x_right = right
            for plot in (self._loss_plot, self._lr_plot):
                plot.enableAutoRange(x=False)  # y still follows the curves
            self._loss_plot.setXRange(0, right, padding=0)  # the lr plot is x-linked

    @Slot()
    def _stop_following(self) -> None:
        self._follow = False

    def _set_x_label(self) -> None:
        self._lr_plot.setLabel("bottom", "tokens seen" if self._by_tokens else "step")


def stepped_end(last: float) -> float:
    """The x range's end: the first of 1, 2, 5 × 10^k at least 5 % beyond `last`."""
    wanted = max(last * 1.05, 1.0)
    scale = 10 ** math.floor(math.log10(wanted))
    return float(next(m * scale for m in (1, 2, 5, 10) if m * scale >= wanted))


class _CompactAxis(pg.AxisItem):  # type: ignore[misc]
    """Ticks as "20M" tokens and "3e-4" learning rates: pyqtgraph's own "5e+06" is hard to
    read, and its automatic "(x1e-06)" label suffix does not fit a small plot."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self.logMode or not values or spacing <= 0:
            return list(super().tickStrings(values, scale, spacing))
        return [_compact(v, spacing) for v in values]


def _compact(value: float, spacing: float) -> str:
    """`value` with just enough digits to tell ticks `spacing` apart."""
    if abs(value) < spacing / 2:
        return "0"
    for divisor, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if spacing >= divisor:
            return f"{_trim(value / divisor, spacing / divisor)}{suffix}"
    if spacing >= 1e-2:
        return _trim(value, spacing)
    mantissa, exponent = f"{value:e}".split("e")
    return f"{_trim(float(mantissa), spacing / 10 ** int(exponent))}e{int(exponent)}"


def _trim(value: float, spacing: float) -> str:
    """Fixed point, as many decimals as `spacing` needs (at most 3), no trailing zeros."""
    digits = max(0, min(3, math.ceil(-math.log10(spacing) - 1e-9) + 1))
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plot() -> pg.PlotWidget:
    """A white plot with dark axes, a faint grid, and the clipping/downsampling that keeps
    20 000 points cheap."""
    plot = pg.PlotWidget(
        background="w",
        axisItems={"left": _CompactAxis("left"), "bottom": _CompactAxis("bottom")},
    )
    item = plot.getPlotItem()
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    item.showGrid(x=True, y=True, alpha=GRID_ALPHA)
    item.setMenuEnabled(False)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(AXIS_COLOUR))
        axis.setTextPen(pg.mkPen(AXIS_COLOUR))
    item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)  # same on both plots: x axes line up
    return plot

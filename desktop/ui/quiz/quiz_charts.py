"""The quiz's two charts. Calibration: is the model right as often as it is confident?
(points on the diagonal: yes; below it: over-confident, the shape of a hallucination.)
Closed vs open book: how much does giving the model the article help, per question?

Each chart says what its marks mean in a line of its own under the plot, so no legend
sits on the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from desktop.core.quiz.results import VERDICTS, QuizSummary
from desktop.ui.widgets.plot_fonts import follow_app_font

CLOSED_COLOUR = "#1F5FAD"
OPEN_COLOUR = "#E0620D"
DIAGONAL_COLOUR = "#9E9E9E"
AXIS_COLOUR = "#404040"
PENDING_COLOUR = "#9E9E9E"  # a question without a verdict yet
BIN_COLOUR = "#212121"
BAR_WIDTH = 0.38
VERDICT_COLOURS = {
    "knows": "#2E7D32",
    "hallucinates": "#C62828",
    "doesn't know": "#546E7A",
    "unsure": "#B26A00",
}


def _swatch(colour: str, mark: str = "■") -> str:
    return f"<span style='color:{colour}'>{mark}</span>"


def calibration_key() -> str:
    verdicts = " ".join(f"{_swatch(VERDICT_COLOURS[v], '●')} {v}" for v in VERDICTS)
    return (
        f"● a question: its K closed-book answers' mean confidence and accuracy ({verdicts})"
        f"<br>{_swatch(BIN_COLOUR, '○')} answers grouped by confidence (bigger: more answers)"
        " · - - - right as often as sure"
    )


def books_key() -> str:
    return (
        f"{_swatch(CLOSED_COLOUR)} closed book (the question alone) · "
        f"{_swatch(OPEN_COLOUR)} open book (with the article)"
    )


class QuizCharts(QWidget):
    def __init__(self) -> None:
        super().__init__()
        pg.setConfigOptions(antialias=True)
        self.calibration_plot = _plot("Calibration", "mean token probability")  # = confidence
        self.books_plot = _plot("Closed vs open book", "question")
        cal = self.calibration_plot.getPlotItem()
        cal.setXRange(0, 1, padding=0.05)
        cal.plot([0, 1], [0, 1], pen=pg.mkPen(DIAGONAL_COLOUR, width=1, style=Qt.PenStyle.DashLine))
        self._questions = pg.ScatterPlotItem(pen=None, size=8)
        self._bins = pg.ScatterPlotItem(pen=pg.mkPen(BIN_COLOUR, width=1.5), brush=None)
        cal.addItem(self._questions)
        cal.addItem(self._bins)
        books = self.books_plot.getPlotItem()
        self._closed_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=CLOSED_COLOUR)
        self._open_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=OPEN_COLOUR)
        books.addItem(self._closed_bars)
        books.addItem(self._open_bars)
        self.calibration_key = _key(calibration_key())
        self.books_key = _key(books_key())
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.calibration_plot, 0, 0)
        layout.addWidget(self.books_plot, 0, 1)
        layout.addWidget(self.calibration_key, 1, 0)
        layout.addWidget(self.books_key, 1, 1)
        layout.setRowStretch(0, 1)
        self.shown: dict[str, Any] = {}

    def show_summary(self, summary: QuizSummary) -> None:
        bins = summary.calibration
        sizes = [8 + 16 * b.count / max(c.count for c in bins) for b in bins] if bins else []
        self._bins.setData(x=[b.confidence for b in bins], y=[b.accuracy for b in bins], size=sizes)
        closed = [(q, q.closed) for q in summary.questions if q.closed]
        colours = [VERDICT_COLOURS.get(q.verdict or "", PENDING_COLOUR) for q, _ in closed]
        self._questions.setData(
            x=[m.confidence for _, m in closed],
            y=[m.accuracy for _, m in closed],
            brush=[pg.mkBrush(c) for c in colours],
        )
        opened = [(q.index, q.open) for q in summary.questions if q.open]
        closed_x = np.array([q.index + 1 - BAR_WIDTH / 2 for q, _ in closed])
        open_x = np.array([i + 1 + BAR_WIDTH / 2 for i, _ in opened])
        self._closed_bars.setOpts(x=closed_x, height=[m.accuracy for _, m in closed])
        self._open_bars.setOpts(x=open_x, height=[m.accuracy for _, m in opened])
        count = len(summary.questions)
        self.books_plot.getPlotItem().setXRange(0.4, max(count, 1) + 0.6, padding=0)
        self.books_plot.getPlotItem().getAxis("bottom").setTicks(
            [[(i + 1, str(i + 1)) for i in range(count)]]
        )
        self.shown = {
            "calibration": [(b.confidence, b.accuracy, b.count) for b in bins],
            "closed": [m.accuracy for _, m in closed],
            "open": [m.accuracy for _, m in opened],
            "question_colours": colours,
        }


def _key(html: str) -> QLabel:
    label = QLabel(html)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {AXIS_COLOUR}")
    return label


def _plot(title: str, x_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color=AXIS_COLOUR)
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    item.setMouseEnabled(x=False, y=False)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setYRange(-0.05, 1.05, padding=0)  # points at 0 and 1 are drawn whole
    item.setLabel("bottom", x_label)
    item.setLabel("left", "accuracy")
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(AXIS_COLOUR))
        axis.setTextPen(pg.mkPen(AXIS_COLOUR))
    return follow_app_font(plot)

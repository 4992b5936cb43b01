"""A small live plot of a few named curves, for the Reinforce tab: points arrive with each
evaluation (a few a second at most), are kept in lists, and a 50 ms single-shot timer
draws whatever changed — the curves are created once, as in the Train tab's plots. The
text follows the app's zoom (`follow_app_font`)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.ui.widgets.plot_fonts import follow_app_font

DRAIN_MS = 50
AXIS_COLOUR = "#404040"
LEFT_AXIS_WIDTH = 40


class LiveCurves(QWidget):
    """`curves`: name -> (colour, dashed); the names are the legend's."""

    def __init__(self, title: str, y_label: str, x_label: str,
                 curves: dict[str, tuple[str, bool]], *, y_range: tuple[float, float] | None = None
                 ) -> None:  # fmt: skip
        super().__init__()
        self.plot = pg.PlotWidget(background="w")
        self.setAccessibleName(title)
        item = self.plot.getPlotItem()
        item.setTitle(title, color=AXIS_COLOUR)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.setLabel("left", y_label)
        item.setLabel("bottom", x_label)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(AXIS_COLOUR))
            axis.setTextPen(pg.mkPen(AXIS_COLOUR))
        if y_range is not None:
            item.setYRange(*y_range, padding=0.02)
            item.enableAutoRange(y=False)
        legend = item.addLegend(offset=(-6, 6), labelTextColor=AXIS_COLOUR,
                                brush=(255, 255, 255, 200), pen="#C8C8C8")  # fmt: skip
        legend.setZValue(10)
        self._points: dict[str, tuple[list[float], list[float]]] = {}
        self._curves = {}
        for name, (colour, dashed) in curves.items():
            pen = pg.mkPen(colour, width=2, style=pg.QtCore.Qt.PenStyle.DashLine if dashed
                           else pg.QtCore.Qt.PenStyle.SolidLine)  # fmt: skip
            self._curves[name] = item.plot(
                name=name,
                pen=pen,
                symbol="o",
                symbolSize=4,
                symbolPen=pg.mkPen(colour),
                symbolBrush=colour,
            )
            self._points[name] = ([], [])
        follow_app_font(self.plot, left_width=LEFT_AXIS_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DRAIN_MS)
        self._timer.timeout.connect(self._draw)

    def add(self, name: str, x: float, y: float | None) -> None:
        if y is None or y != y:  # nothing measured (nan)
            return
        xs, ys = self._points[name]
        xs.append(float(x))
        ys.append(float(y))
        if not self._timer.isActive():
            self._timer.start()

    def clear(self, *names: str) -> None:
        for name in names or tuple(self._points):
            self._points[name] = ([], [])
            self._curves[name].setData([], [])

    def data(self, name: str) -> tuple[list[float], list[float]]:
        return self._points[name]

    @Slot()
    def _draw(self) -> None:
        for name, (xs, ys) in self._points.items():
            self._curves[name].setData(list(xs), list(ys))

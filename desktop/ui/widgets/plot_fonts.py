"""Plots that follow the zoom: pyqtgraph draws tick numbers, axis labels, titles and legends
in fonts of its own (9 pt labels, the painter's font for ticks), which the application font
never reaches, so a class zoomed to 200 % read 9 pt axes. `follow_app_font(plot)` keeps
them at the widget's font as it changes."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont

AXES = ("left", "bottom", "right", "top")
REFERENCE_POINTS = 9.0  # the size the plots were laid out for


def point_size(font: QFont) -> float:
    size = font.pointSizeF()
    return size if size > 0 else font.pixelSize() * 0.75


class _PlotFonts(QObject):
    def __init__(self, plot: pg.PlotWidget, left_width: int | None) -> None:
        super().__init__(plot)
        self.plot = plot
        self.left_width = left_width
        plot.installEventFilter(self)
        self.apply()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FontChange:
            self.apply()
        return False

    def apply(self) -> None:
        font = QFont(self.plot.font())
        points = point_size(font)
        item = self.plot.getPlotItem()
        for name in AXES:
            axis = item.getAxis(name)
            axis.setStyle(tickFont=font)
            axis.setTickDensity(REFERENCE_POINTS / points)  # bigger numbers, fewer of them
            axis.label.setFont(font)
            axis.resizeEvent()  # the label's place depends on its size
        if self.left_width is not None:
            item.getAxis("left").setWidth(round(self.left_width * points / REFERENCE_POINTS))
        title = item.titleLabel
        if title.text:
            title.setText(title.text, size=f"{points * 1.15:.1f}pt")
        legend = item.legend
        if legend is not None:
            size = f"{points:.1f}pt"
            legend.setLabelTextSize(size)  # for entries added later; and those there now:
            for _sample, label in legend.items:
                label.setText(label.text, size=size)
            legend.updateSize()


def follow_app_font(plot: pg.PlotWidget, *, left_width: int | None = None) -> pg.PlotWidget:
    """`plot` with its text in the widget's font, now and after every zoom; `left_width`:
    a fixed left axis width at 9 pt (so stacked plots line up), scaled with the font."""
    _PlotFonts(plot, left_width)
    return plot

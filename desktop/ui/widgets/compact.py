"""Widgets that fit a classroom projector (1024×700): side panels scroll instead of
making the window taller, and combo boxes do not ask for the width of their longest item."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFrame, QScrollArea, QWidget


def scrolling(panel: QWidget) -> QScrollArea:
    """`panel` in a vertical scroll area as wide as the panel itself."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumWidth(panel.minimumSizeHint().width() + 16)  # room for the scroll bar
    return area


def compact(combo: QComboBox, characters: int = 14) -> QComboBox:
    """A combo box that asks for `characters` of width, not its longest item's."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo

"""A message too long to lay out in full: plain text in a box with its own scroll bar.

QPlainTextEdit lays out only the lines on screen, so 1 MB shows in a few milliseconds; the
bubble-sized view would lay out all of it (hundreds of milliseconds) to know its height.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QPlainTextEdit

HEIGHT_PX = 420


class ScrollingPlainView(QPlainTextEdit):
    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFixedHeight(HEIGHT_PX)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)

"""A tab whose widget is built the first time it is shown: the Train tab pulls in numpy,
gguf and pyqtgraph, which would otherwise slow every start of the app by ~0.4 s."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyTab(QWidget):
    created = Signal(object)  # the real widget, once built

    def __init__(self, factory: Callable[[], QWidget]) -> None:
        super().__init__()
        self._factory = factory
        self.widget: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def ensure(self) -> QWidget:
        if self.widget is None:
            self.widget = self._factory()
            self._layout.addWidget(self.widget)
            self.created.emit(self.widget)
        return self.widget

    def showEvent(self, event: QShowEvent) -> None:
        self.ensure()
        super().showEvent(event)

"""A tab's page on the whole screen: no tab bar, no side panels, nothing but the page.

The page is lifted out of its QTabWidget into a full-screen window of its own (a
placeholder keeps its tab, so no other tab moves), and goes back where it was on Esc, on
closing that window, or on `leave()`."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget


def enclosing_tabs(page: QWidget) -> QTabWidget | None:
    """The tab widget `page` is a page of (its parent is the tab widget's inner stack)."""
    parent = page.parentWidget()
    while parent is not None:
        if isinstance(parent, QTabWidget) and parent.indexOf(page) >= 0:
            return parent
        parent = parent.parentWidget()
    return None


class FullScreenPage(QWidget):
    left = Signal()

    def __init__(self, page: QWidget, tabs: QTabWidget) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.page, self.tabs = page, tabs
        self.index = tabs.indexOf(page)
        self.label = tabs.tabText(self.index)
        self.setWindowTitle(f"Deep Dive Lab · {self.label}")
        self.placeholder = QLabel(f"{self.label} is on the full screen: Esc brings it back.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        tabs.removeTab(self.index)
        tabs.insertTab(self.index, self.placeholder, self.label)
        tabs.setCurrentIndex(self.index)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(24, 16, 24, 16)
        self.box.addWidget(page)
        page.show()
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.leave)
        self._back = False
        self.showFullScreen()
        self.activateWindow()

    def leave(self) -> None:
        """The page back in its tab, where it was."""
        if self._back:
            return
        self._back = True
        self.box.removeWidget(self.page)
        self.tabs.removeTab(self.tabs.indexOf(self.placeholder))
        self.tabs.insertTab(self.index, self.page, self.label)
        self.tabs.setCurrentIndex(self.index)
        self.placeholder.deleteLater()
        self.close()
        self.deleteLater()
        self.left.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.leave()  # closed some other way (Alt+F4): the page still goes home
        super().closeEvent(event)

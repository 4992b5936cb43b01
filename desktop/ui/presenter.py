"""For a classroom: Ctrl+= / Ctrl+- / Ctrl+0 scale the whole interface (every font, so
token spans and plot labels follow) from 100 % to 200 %, and the window comes back where
and as large as it was. Both are remembered."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QObject, Signal, Slot
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from desktop.ui.app_settings import AppSettings

ZOOM_STEPS = (100, 110, 125, 150, 175, 200)


_base: QFont | None = None


def base_font() -> QFont:
    """The platform's own font, before any zoom: 100 % (kept once per process, since the
    application font is what zooming changes)."""
    global _base
    if _base is None:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        _base = QFont(app.font())
    return QFont(_base)


class Presenter(QObject):
    zoom_changed = Signal(int)  # percent

    def __init__(self, window: QMainWindow, settings: AppSettings) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self._base = base_font()
        self.zoom = 100
        # The keys belong to actions: the View menu shows these very actions, so a menu
        # item and its key cannot drift apart (and macOS shows ⌘ where Linux shows Ctrl).
        self.zoom_in_action = self._action("Zoom in", ("Ctrl+=", "Ctrl++"), self.zoom_in)
        self.zoom_out_action = self._action("Zoom out", ("Ctrl+-",), self.zoom_out)
        self.reset_action = self._action("Actual size", ("Ctrl+0",), self.reset)

    def _action(self, text: str, keys: tuple[str, ...], slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.window)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(slot)
        self.window.addAction(action)  # the keys work with the menu bar hidden, too
        return action

    def restore(self) -> None:
        """The zoom and the window's place and size, as they were last time."""
        self.set_zoom(int(self.settings.get("ui/zoom")))
        geometry = self.settings.get("ui/geometry")
        if not geometry or not self.window.restoreGeometry(
            QByteArray.fromBase64(geometry.encode())
        ):
            self.window.resize(1280, 800)

    def save(self) -> None:
        self.settings.set("ui/zoom", self.zoom)
        geometry = self.window.saveGeometry().toBase64()
        self.settings.set("ui/geometry", bytes(geometry.data()).decode())

    def set_zoom(self, percent: int) -> None:
        percent = min(ZOOM_STEPS[-1], max(ZOOM_STEPS[0], percent))
        font = QFont(self._base)
        size = self._base.pointSizeF()
        if size > 0:
            font.setPointSizeF(size * percent / 100)
        else:
            font.setPixelSize(round(self._base.pixelSize() * percent / 100))
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.setFont(font)
        # Qt keeps the old font where a style sheet is set: set those again. Only this
        # window's widgets (its dialogs and tool windows are its children): every widget of
        # the application includes ones half-destroyed, and touching one of those crashed.
        for widget in [self.window, *self.window.findChildren(QWidget)]:
            if widget.styleSheet():
                widget.setStyleSheet(widget.styleSheet())
        self.zoom = percent
        self.zoom_changed.emit(percent)

    @Slot()
    def zoom_in(self) -> None:
        self.set_zoom(next((z for z in ZOOM_STEPS if z > self.zoom), ZOOM_STEPS[-1]))

    @Slot()
    def zoom_out(self) -> None:
        self.set_zoom(next((z for z in reversed(ZOOM_STEPS) if z < self.zoom), ZOOM_STEPS[0]))

    @Slot()
    def reset(self) -> None:
        self.set_zoom(100)

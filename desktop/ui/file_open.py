"""macOS hands a double-clicked file to the app as a FileOpen event, not as an argument
(Linux and Windows pass it on the command line): a .gguf opens in the Chat tab either way."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent


class ModelFileOpener(QObject):
    """Installed on the QApplication: FileOpen events for .gguf files go to `open_model`."""

    def __init__(self, open_model: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_model = open_model

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file()
            if path.lower().endswith(".gguf"):
                self._open_model(path)
                return True
        return False

"""Where the user types: Enter sends, Shift+Enter starts a new line; Send turns into Stop."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QWidget


class MessageEdit(QPlainTextEdit):
    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    send_requested = Signal(str)
    stop_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.edit = MessageEdit()
        self.edit.setTabChangesFocus(True)  # keyboard users leave with Tab
        self.edit.setAccessibleName("Message to the model")
        self.edit.setPlaceholderText("Message the model…  (Enter sends, Shift+Enter: new line)")
        self.edit.setFixedHeight(72)
        self.button = QPushButton("Send")
        self.button.setMinimumWidth(90)
        self.button.setFixedHeight(72)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self.edit.submitted.connect(self._send)
        self.button.clicked.connect(self._clicked)
        self._busy = False

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.button.setText("Stop" if busy else "Send")

    def _clicked(self) -> None:
        if self._busy:
            self.stop_requested.emit()
        else:
            self._send()

    def _send(self) -> None:
        text = self.edit.toPlainText().strip()
        if not self._busy and text:
            self.send_requested.emit(text)  # the tab clears the box once the text is kept

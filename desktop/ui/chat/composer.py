"""Where the user types: Enter sends, Shift+Enter starts a new line; Send turns into Stop.
Above the box: attach documents, "Use code" (the talk's advice: the model writes a program
instead of guessing; "Use code." is added to the message), "Search" (the model may search
the local documents) and a search of your own."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from desktop.ui.chat.document_chips import DocumentChips

USE_CODE = "Use code."


def with_use_code(text: str) -> str:
    """The message as sent with "Use code" on (once: not again if it says so already)."""
    if "use code" in text.casefold():
        return text
    return f"{text.rstrip()} {USE_CODE}"


class MessageEdit(QPlainTextEdit):
    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


def _tool_button(text: str, tip: str, checkable: bool = False) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setFlat(not checkable)
    return button


class Composer(QWidget):
    send_requested = Signal(str)
    stop_requested = Signal()
    attach_requested = Signal()
    search_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.attach_button = _tool_button("Attach…", "Attach text, Markdown or HTML "
                                          "documents to this conversation")  # fmt: skip
        self.use_code = _tool_button(
            "Use code",
            "Offer the model a Python sandbox, and add “Use code.” to your "
            "message: it can count, calculate and check instead of guessing",
            checkable=True,
        )
        self.let_search = _tool_button(
            "Let it search", "Offer the model a search of your documents, the Quiz "
            "articles and the folders you add", checkable=True)  # fmt: skip
        self.search_button = _tool_button("Search…", "Search the local documents yourself")
        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        for button in (self.attach_button, self.use_code, self.let_search, self.search_button):
            tools.addWidget(button)
        tools.addStretch(1)
        self.chips = DocumentChips()
        self.edit = MessageEdit()
        self.edit.setTabChangesFocus(True)  # keyboard users leave with Tab
        self.edit.setAccessibleName("Message to the model")
        self.edit.setPlaceholderText("Message the model…  (Enter sends, Shift+Enter: new line)")
        self.edit.setFixedHeight(72)
        self.button = QPushButton("Send")
        self.button.setMinimumWidth(90)
        self.button.setFixedHeight(72)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(tools)
        column.addWidget(self.chips)
        column.addLayout(row)
        self.edit.submitted.connect(self._send)
        self.button.clicked.connect(self._clicked)
        self.attach_button.clicked.connect(self.attach_requested)
        self.search_button.clicked.connect(self.search_requested)
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

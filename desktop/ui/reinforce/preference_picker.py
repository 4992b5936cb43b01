"""The two-answer picker: a request (a joke, a two-line poem, a story opening), two answers
from the model side by side, and the person's verdict — A, B or a tie."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.widgets.message_label import MessageLabel


def _answer_box(name: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setReadOnly(True)
    box.setTabChangesFocus(True)
    box.setAccessibleName(name)
    box.setMaximumHeight(90)
    return box


class PreferencePicker(QWidget):
    voted = Signal(str)  # "a", "b" or "tie"
    new_pair_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.prompt = MessageLabel("Make the writer, then it answers here twice.")
        self.answer_a = _answer_box("Answer A")
        self.answer_b = _answer_box("Answer B")
        self.a_button = QPushButton("A is better")
        self.b_button = QPushButton("B is better")
        self.tie_button = QPushButton("Tie")
        self.new_button = QPushButton("Two new answers")
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>A</b>"), 0, 0)
        grid.addWidget(QLabel("<b>B</b>"), 0, 1)
        grid.addWidget(self.answer_a, 1, 0)
        grid.addWidget(self.answer_b, 1, 1)
        buttons = QHBoxLayout()
        for button in (self.a_button, self.b_button, self.tie_button, self.new_button):
            buttons.addWidget(button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.prompt)
        column.addLayout(grid)
        column.addLayout(buttons)
        self.a_button.clicked.connect(lambda: self.voted.emit("a"))
        self.b_button.clicked.connect(lambda: self.voted.emit("b"))
        self.tie_button.clicked.connect(lambda: self.voted.emit("tie"))
        self.new_button.clicked.connect(self.new_pair_requested.emit)
        self.show_pair(None)

    def show_pair(self, pair: tuple[str, str, str] | None) -> None:
        """(request, answer A, answer B), or None: nothing to judge."""
        if pair is None:
            self.prompt.setText("No answers to judge yet: make (or pick) the writer.")
            self.answer_a.clear()
            self.answer_b.clear()
        else:
            request, a, b = pair
            self.prompt.setText(f"Which answer to “{request}” is better?")
            self.answer_a.setPlainText(a)
            self.answer_b.setPlainText(b)
        for button in (self.a_button, self.b_button, self.tie_button):
            button.setEnabled(pair is not None)

    def set_enabled(self, enabled: bool) -> None:
        self.new_button.setEnabled(enabled)
        has_pair = bool(self.answer_a.toPlainText() or self.answer_b.toPlainText())
        for button in (self.a_button, self.b_button, self.tie_button):
            button.setEnabled(enabled and has_pair)

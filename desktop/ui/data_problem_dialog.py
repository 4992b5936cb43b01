"""The dialog shown before the main window when the data folder or its database cannot be
used: what is wrong and where, in one sentence, and a button for each possible choice with
what it will do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
)

from desktop.core.storage.data_problems import Choice, DataProblem, choice_text


class DataProblemDialog(QDialog):
    def __init__(self, problem: DataProblem) -> None:
        super().__init__()
        self.problem = problem
        self.choice: Choice = "quit"  # closing the window is quitting
        self.setWindowTitle("Deep Dive Lab: the data folder needs a decision")
        self.setMinimumWidth(560)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
                       .pixmap(40, 40))  # fmt: skip
        self.sentence = QLabel(problem.sentence)
        self.sentence.setTextFormat(Qt.TextFormat.PlainText)  # paths are not markup
        self.sentence.setWordWrap(True)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sentence.setStyleSheet("font-size: 14px;")
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(10)
        self.buttons: dict[Choice, QPushButton] = {}
        for row, choice in enumerate(problem.choices):
            label, explanation = choice_text(choice, problem)
            button = QPushButton(label)
            button.setObjectName(f"choice-{choice}")
            button.setAutoDefault(False)  # Enter must not pick a choice by accident
            button.clicked.connect(lambda _=False, c=choice: self._choose(c))
            words = QLabel(explanation)
            words.setTextFormat(Qt.TextFormat.PlainText)
            words.setWordWrap(True)
            words.setStyleSheet("color: #555;")
            grid.addWidget(button, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(words, row, 1)
            self.buttons[choice] = button
        top = QGridLayout()
        top.addWidget(icon, 0, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.sentence, 0, 1)
        top.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addSpacing(8)
        layout.addLayout(grid)

    def _choose(self, choice: Choice) -> None:
        self.choice = choice
        self.accept()

"""The identity set maker: a name, a maker, a few facts and a tone → questions about who
the assistant is, with answers, in a table to edit before training."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.posttrain.chat_data import Conversation, conversation
from desktop.core.posttrain.identity import DEFAULT_COUNT, TONES, Identity, identity_pairs
from desktop.ui.widgets.message_label import MessageLabel


class IdentityPage(QWidget):
    changed = Signal()  # the set in the table changed (made, edited, rows added or removed)

    def __init__(self) -> None:
        super().__init__()
        self.name = QLineEdit("Ada")
        self.maker = QLineEdit("the Deep Dive Lab")
        self.facts = QPlainTextEdit("I run offline, on this computer.\nI was fine-tuned in class.")
        self.facts.setTabChangesFocus(True)
        self.facts.setAccessibleName("Facts about the assistant, one per line")
        self.facts.setMaximumHeight(64)
        self.tone = QComboBox()
        self.tone.addItems(list(TONES))
        self.count = QSpinBox()
        self.count.setRange(1, 1000)
        self.count.setValue(DEFAULT_COUNT)
        self.make_button = QPushButton("Make the set")
        self.add_button = QPushButton("Add a row")
        self.remove_button = QPushButton("Remove rows")
        self.status = MessageLabel("")
        self.table = QTableWidget(0, 2)
        self.table.setAccessibleName("The identity set: questions and answers to train on")
        self.table.setHorizontalHeaderLabels(["Question", "Answer"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self._layout()
        self.make_button.clicked.connect(self.make)
        self.add_button.clicked.connect(self._add_row)
        self.remove_button.clicked.connect(self._remove_rows)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Maker:", self.maker)
        form.addRow("Facts:", self.facts)
        row = QHBoxLayout()
        row.addWidget(self.tone)
        row.addWidget(self.count)
        row.addWidget(self.make_button)
        row.addStretch(1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        form.addRow("Tone, how many:", row)
        self.tone.setAccessibleName("Tone of the answers")
        self.count.setAccessibleName("How many questions to make")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)

    def identity(self) -> Identity:
        facts = tuple(line for line in self.facts.toPlainText().splitlines() if line.strip())
        return Identity(self.name.text(), self.maker.text(), facts, self.tone.currentText())

    @Slot()
    def make(self) -> bool:
        try:
            pairs = identity_pairs(self.identity(), self.count.value())
        except ValueError as exc:
            self.status.setText(f"⚠ {exc}")
            return False
        self.set_pairs(pairs)
        self.status.setText(f"{len(pairs)} questions and answers: edit any cell before training.")
        return True

    def set_pairs(self, pairs: list[tuple[str, str]]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for question, answer in pairs:
            self._append(question, answer)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()
        self.changed.emit()

    def pairs(self) -> list[tuple[str, str]]:
        out = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, column) for column in (0, 1)]
            question, answer = (c.text().strip() if c is not None else "" for c in cells)
            if question and answer:
                out.append((question, answer))
        return out

    def conversations(self) -> list[Conversation]:
        return [conversation([pair]) for pair in self.pairs()]

    def label(self) -> str:
        return f"identity set ({self.name.text().strip() or '?'}, by {self.maker.text().strip()})"

    def _append(self, question: str, answer: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(question))
        self.table.setItem(row, 1, QTableWidgetItem(answer))

    @Slot()
    def _add_row(self) -> None:
        self._append("", "")
        row = self.table.rowCount() - 1
        self.table.setCurrentCell(row, 0)
        if (item := self.table.item(row, 0)) is not None:
            self.table.editItem(item)

    @Slot()
    def _remove_rows(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self.changed.emit()

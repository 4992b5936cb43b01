"""The editable list of question–answer pairs: typed in, written by the model, made by
rules or imported, and corrected by hand before a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from desktop.core.quiz.qa import QAPair
from desktop.ui.widgets.plain_text import plain_tooltip

AnyIndex = QModelIndex | QPersistentModelIndex
COLUMNS = ("Question", "Answer", "From")
SOURCE_NAMES = {"model": "model", "rules": "rules", "manual": "typed", "import": "file"}


class QATableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[QAPair] = []

    def set_pairs(self, pairs: Sequence[QAPair]) -> None:
        self.beginResetModel()
        self.pairs = list(pairs)
        self.endResetModel()

    def add_pairs(self, pairs: Sequence[QAPair]) -> int:
        """Append the pairs whose question is not in the list yet; returns how many."""
        seen = {p.question.strip().casefold() for p in self.pairs}
        new = []
        for pair in pairs:
            key = pair.question.strip().casefold()
            if key and key not in seen:
                seen.add(key)
                new.append(pair)
        if new:
            start = len(self.pairs)
            self.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
            self.pairs.extend(new)
            self.endInsertRows()
        return len(new)

    def remove_rows(self, rows: Sequence[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.pairs[row]
            self.endRemoveRows()

    def complete_pairs(self) -> list[QAPair]:
        """The pairs a run can use: both a question and an answer."""
        return [p for p in self.pairs if p.question.strip() and p.answer.strip()]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.pairs)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return COLUMNS[section] if orientation == Qt.Orientation.Horizontal else section + 1

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        pair = self.pairs[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return (pair.question, pair.answer, SOURCE_NAMES[pair.source])[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() < 2:
            if index.column() == 1:
                return plain_tooltip(pair.answer)
            if pair.stem:  # what a base model is given instead of the question
                return plain_tooltip(f"{pair.question}\n\nA base model continues: “{pair.stem}…”")
            return plain_tooltip(pair.question)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.column() < 2 else base

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() >= 2:
            return False
        pair = self.pairs[index.row()]
        text = str(value).strip()
        field = "question" if index.column() == 0 else "answer"
        if getattr(pair, field) == text:
            return False
        # Whoever wrote the pair, a corrected one is the user's.
        self.pairs[index.row()] = replace(pair, **{field: text}, source="manual")
        self.dataChanged.emit(index, self.index(index.row(), 2))
        return True

    def add_blank(self) -> int:
        self.beginInsertRows(QModelIndex(), len(self.pairs), len(self.pairs))
        self.pairs.append(QAPair("", "", "manual"))
        self.endInsertRows()
        return len(self.pairs) - 1

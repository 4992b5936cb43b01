"""A read-only table model over a list of records, described by its columns.

Every table in the Models tab (search results, a repository's files, downloads, the
library) is this model with different columns, so sorting, tooltips and colours work
the same everywhere. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from desktop.ui.widgets.plain_text import plain_tooltip

R = TypeVar("R")
AnyIndex = QModelIndex | QPersistentModelIndex
SortRole = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Column(Generic[R]):
    title: str
    text: Callable[[R], str]
    sort_key: Callable[[R], Any] | None = None  # defaults to the text
    tooltip: Callable[[R], str] | None = None
    colour: Callable[[R], str | None] | None = None
    align_right: bool = False


class RecordTableModel(QAbstractTableModel, Generic[R]):
    def __init__(self, columns: Sequence[Column[R]]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.records: list[R] = []

    def set_records(self, records: Sequence[R]) -> None:
        self.beginResetModel()
        self.records = list(records)
        self.endResetModel()

    def record(self, row: int) -> R:
        return self.records[row]

    def refresh_row(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record, column = self.records[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == SortRole:
            return column.sort_key(record) if column.sort_key else column.text(record)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            # Every table's tooltips are text (paths, header errors, model-written questions):
            # escaped here, once, so no column can forget it.
            return plain_tooltip(column.tooltip(record))
        if role == Qt.ItemDataRole.ForegroundRole and column.colour:
            colour = column.colour(record)
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

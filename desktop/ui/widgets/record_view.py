"""A QTableView set up the same way for every record table: whole-row selection,
sortable by the columns' sort keys, last column stretched."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from desktop.ui.widgets.record_table import RecordTableModel, SortRole


class RecordView(QTableView):
    def __init__(self, model: RecordTableModel[Any], sortable: bool = True) -> None:
        super().__init__()
        self.records = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SortRole)
        self.setModel(self.proxy)
        # No column sorted until the user clicks one: records keep their given order
        # (search results come best first from the Hub).
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(sortable)
        self.setWordWrap(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def current_record(self) -> Any | None:
        index = self.currentIndex()
        if not index.isValid():
            return None
        return self.records.record(self.proxy.mapToSource(index).row())

    def select_source_row(self, row: int) -> None:
        self.selectRow(self.proxy.mapFromSource(self.records.index(row, 0)).row())

    def fit_columns(self) -> None:
        self.resizeColumnsToContents()

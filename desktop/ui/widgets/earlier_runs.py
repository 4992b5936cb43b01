"""An "Earlier runs" row, as the Train, Post-train and Reinforce tabs show it: the runs in
a drop-down (each labelled, its whole label also its tooltip: a narrow column cuts it
short) and a few buttons that act on the chosen one. Which runs, and what the buttons
do, is the tab's business; the row keeps the choice across reloads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget


class EarlierRunsRow(QWidget):
    def __init__(
        self,
        name: str,
        placeholder: str,
        buttons: Sequence[str],
        *,
        min_chars: int | None = None,
        stacked: bool = False,
    ) -> None:
        """`name`: the drop-down's accessible name; `min_chars`: let it shrink to that many
        characters; `stacked`: buttons under the drop-down (a narrow column)."""
        super().__init__()
        self.combo = QComboBox()
        self.combo.setAccessibleName(name)
        self.combo.setPlaceholderText(placeholder)
        if min_chars is not None:
            self.combo.setMinimumContentsLength(min_chars)
            self.combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
        self.buttons = [QPushButton(text) for text in buttons]
        layout: QBoxLayout = QVBoxLayout(self) if stacked else QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)  # sits in a form row, aligned with the others
        layout.addWidget(self.combo, 1)
        row = QHBoxLayout() if stacked else layout
        for button in self.buttons:
            row.addWidget(button)
        if stacked:
            layout.addLayout(row)

    def fill(self, items: Iterable[tuple[str, object]], select: object | None = None) -> None:
        """List `(label, key)` items afresh. `select`'s item is chosen if given and listed,
        else the one chosen before, else the first."""
        current = self.combo.currentData()
        self.combo.clear()
        for label, key in items:
            self.combo.addItem(label, key)
            self.combo.setItemData(self.combo.count() - 1, label, Qt.ItemDataRole.ToolTipRole)
        index = -1
        for wanted in (select, current):
            if wanted is not None and index < 0:
                index = self.combo.findData(wanted)
        self.combo.setCurrentIndex(max(0, index) if self.combo.count() else -1)

    def selected(self) -> object | None:
        data: object | None = self.combo.currentData()
        return data

    def set_enabled(self, enabled: bool) -> None:
        """Enable the row while there is something to choose."""
        has = self.combo.count() > 0
        for widget in (self.combo, *self.buttons):
            widget.setEnabled(enabled and has)

"""The Post-train tab's "Earlier runs" row: every fine-tuning run in a drop-down, with
Open (its curves and samples; export it) and Resume (train on from its checkpoint)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from desktop.core.posttrain.posttrain_runs import PosttrainRecord, PosttrainRuns


class EarlierPosttrainRuns(QWidget):
    def __init__(self, store: PosttrainRuns) -> None:
        super().__init__()
        self.store = store
        self.combo = QComboBox()
        self.combo.setAccessibleName("Earlier fine-tuning runs")
        self.combo.setPlaceholderText("None yet")
        self.combo.setMinimumContentsLength(12)
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.open_button = QPushButton("Open")
        self.resume_button = QPushButton("Resume")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.resume_button)

    def reload(self, select: int | None = None) -> list[PosttrainRecord]:
        current = select if select is not None else self.combo.currentData()
        self.combo.clear()
        records = self.store.runs()
        for record in records:
            self.combo.addItem(record.label, record.id)
            self.combo.setItemData(self.combo.count() - 1, record.label, 3)  # tooltip
        index = self.combo.findData(current)
        self.combo.setCurrentIndex(max(0, index) if self.combo.count() else -1)
        self.set_enabled(True)
        return records

    def set_enabled(self, enabled: bool) -> None:
        has = self.combo.count() > 0
        for widget in (self.combo, self.open_button, self.resume_button):
            widget.setEnabled(enabled and has)

    def selected(self) -> int | None:
        data = self.combo.currentData()
        return int(data) if data is not None else None

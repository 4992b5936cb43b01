"""The Train tab's "Earlier runs" row: every run in the runs table in a drop-down, with Open
(show its curves, to export it) and Resume (train on from its checkpoint) beside it.

It also reads a listed run back from its folder; what to do with it is the tab's business.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from desktop.core.train.runs_store import RunRecord, RunsStore
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import TrainingRun


class EarlierRuns(QWidget):
    def __init__(self, store: RunsStore) -> None:
        super().__init__()
        self.store = store
        self.combo = QComboBox()
        self.combo.setAccessibleName("Earlier runs")
        self.combo.setPlaceholderText("No earlier runs yet")
        self.open_button = QPushButton("Open")
        self.resume_button = QPushButton("Resume")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)  # sits in a form row, aligned with the others
        row.addWidget(self.combo, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.resume_button)

    def reload(self, fallback: int | None) -> list[RunRecord]:
        """List the runs afresh. The selected run stays selected; with none selected yet,
        `fallback`'s run is, else the first. Returns the records listed."""
        current = self.combo.currentData()
        self.combo.clear()
        records = self.store.runs()
        for record in records:
            self.combo.addItem(record.label, record.id)
        index = self.combo.findData(current if current is not None else fallback)
        self.combo.setCurrentIndex(max(0, index) if self.combo.count() else -1)
        return records

    @staticmethod
    def read(record: RunRecord) -> tuple[TrainingRun, TrainedTokenizer]:
        """The run's checkpoint and tokenizer: OSError, ValueError or KeyError if either is
        missing or damaged."""
        from desktop.core.train.checkpoint import load_checkpoint

        run = TrainingRun.resume(load_checkpoint(record.folder / "checkpoint.npz"))
        return run, TrainedTokenizer.load(record.folder / "tokenizer.json")

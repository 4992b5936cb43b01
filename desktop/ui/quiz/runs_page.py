"""Earlier quiz runs, side by side: which model, which article, how it did closed and open
book. Open one to see its results again, resume a stopped one, delete it, or select several
and compare them question by question."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Signal, SignalInstance, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.quiz.quiz_store import QuizRun
from desktop.core.quiz.results import VERDICTS, QuizSummary
from desktop.ui.quiz.answers_html import asking_text
from desktop.ui.quiz.run_comparison import RunComparison
from desktop.ui.widgets.record_table import Column, RecordTableModel


@dataclass(frozen=True)
class RunRow:
    run: QuizRun
    summary: QuizSummary


def _share(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "–"


COLUMNS: list[Column[RunRow]] = [
    Column("When", lambda r: time.strftime("%Y-%m-%d %H:%M", time.localtime(r.run.created_at)),
           sort_key=lambda r: r.run.created_at),
    Column("Model", lambda r: r.run.model_name, tooltip=lambda r: r.run.model_path),
    Column("Article", lambda r: r.run.article_title),
    Column("Questions", lambda r: str(len(r.run.pairs)), sort_key=lambda r: len(r.run.pairs),
           align_right=True),
    Column("K", lambda r: str(r.run.settings.samples), align_right=True),
    Column("Asked as", lambda r: r.run.settings.asked_as or "chat (old run)",
           tooltip=lambda r: asking_text(r.run.settings)),
    Column("Closed book", lambda r: _share(r.summary.closed_accuracy),
           sort_key=lambda r: r.summary.closed_accuracy or -1.0, align_right=True),
    Column("Open book", lambda r: _share(r.summary.open_accuracy),
           sort_key=lambda r: r.summary.open_accuracy or -1.0, align_right=True),
    Column("Knows · hallucinates · doesn't know · unsure",
           lambda r: " · ".join(str(r.summary.verdicts[v]) for v in VERDICTS)),
    Column("Status", lambda r: r.run.status),
]  # fmt: skip


class RunsPage(QWidget):
    open_requested = Signal(int)  # run id
    resume_requested = Signal(int)
    delete_requested = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.model: RecordTableModel[RunRow] = RecordTableModel(COLUMNS)
        self.table = QTableView()
        self.table.setAccessibleName("Quiz runs")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.open_button = QPushButton("Open")
        self.resume_button = QPushButton("Resume")
        self.delete_button = QPushButton("Delete")
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.setToolTip("Select two or more runs (Ctrl+click)")
        self.comparison = RunComparison()
        buttons = QHBoxLayout()
        for button in (self.open_button, self.resume_button, self.delete_button,
                       self.compare_button):  # fmt: skip
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.comparison, 2)
        self.open_button.clicked.connect(lambda: self._emit(self.open_requested))
        self.resume_button.clicked.connect(lambda: self._emit(self.resume_requested))
        self.delete_button.clicked.connect(self._confirm_delete)
        self.table.doubleClicked.connect(lambda _i: self._emit(self.open_requested))
        self.compare_button.clicked.connect(self.compare_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def set_rows(self, rows: Sequence[RunRow]) -> None:
        self.model.set_records(rows)
        self._update_buttons()

    def selected(self) -> RunRow | None:
        row = self.table.currentIndex().row()
        return self.model.record(row) if 0 <= row < len(self.model.records) else None

    def selected_rows(self) -> list[RunRow]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.record(r) for r in rows if r < len(self.model.records)]

    @Slot()
    def compare_selected(self) -> None:
        self.comparison.show_runs(self.selected_rows())

    def select_run(self, run_id: int) -> None:
        for row, record in enumerate(self.model.records):
            if record.run.id == run_id:
                self.table.selectRow(row)

    @Slot()
    def _update_buttons(self) -> None:
        row = self.selected()
        self.open_button.setEnabled(row is not None)
        self.delete_button.setEnabled(row is not None and row.run.status != "running")
        self.resume_button.setEnabled(row is not None and row.run.status in ("stopped", "failed"))
        self.compare_button.setEnabled(len(self.selected_rows()) >= 2)

    @Slot()
    def _confirm_delete(self) -> None:
        row = self.selected()
        if row is None:
            return
        answer = QMessageBox.question(
            self, "Delete quiz run", f"Delete the run of {row.run.model_name} on "
            f"“{row.run.article_title}” and all its answers?",
        )  # fmt: skip
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(row.run.id)

    def _emit(self, signal: SignalInstance) -> None:
        row = self.selected()
        if row is not None:
            signal.emit(row.run.id)

"""Several quiz runs question by question: each run's closed-book accuracy and verdict in
its own column, so a class sees at a glance what a bigger (or instructed) model knows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from desktop.core.quiz.comparison import ComparedQuestion, compare
from desktop.core.quiz.results import QuestionResult
from desktop.ui.quiz.results_page import VERDICT_COLOURS
from desktop.ui.widgets.record_table import Column, RecordTableModel

if TYPE_CHECKING:
    from desktop.ui.quiz.runs_page import RunRow


def _cell(result: QuestionResult | None) -> str:
    if result is None:
        return "–"  # not asked in that run
    closed = result.closed
    accuracy = f"{closed.accuracy:.0%}" if closed else "not asked yet"
    return f"{result.verdict or '…'} ({accuracy})"


def _run_column(n: int, title: str) -> Column[ComparedQuestion]:
    def verdict_colour(q: ComparedQuestion) -> str | None:
        result = q.results[n]
        return VERDICT_COLOURS.get(result.verdict or "") if result else None

    return Column(title, lambda q: _cell(q.results[n]), colour=verdict_colour)


class RunComparison(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("Select two or more runs, then Compare selected.")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # model file names
        self.table = QTableView()
        self.table.setAccessibleName("Two runs compared, question by question")
        self.table.verticalHeader().hide()
        self.model: RecordTableModel[ComparedQuestion] = RecordTableModel([])
        self.table.setModel(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)

    def show_runs(self, rows: Sequence[RunRow]) -> None:
        columns: list[Column[ComparedQuestion]] = [
            Column("Question", lambda q: q.question, tooltip=lambda q: q.question),
            Column("Reference", lambda q: q.reference),
        ]
        for n, row in enumerate(rows):
            columns.append(_run_column(n, f"#{row.run.id} {row.run.model_name}"))
        self.model = RecordTableModel(columns)
        self.model.set_records(compare([row.summary for row in rows]))
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        names = ", ".join(
            f"#{r.run.id} {r.run.model_name} on “{r.run.article_title}”" for r in rows
        )
        self.title.setText(f"Closed book, question by question: {names}.")

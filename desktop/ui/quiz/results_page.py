"""Step 3: what the model knows. Per question: accuracy over the K answers, how much the
answers agree, the model's confidence, the verdict, and open-book accuracy; the charts;
every answer of the selected question with its grade and, one click away, the exact
prompt it got; and the training-set export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.quiz.interrogation import Mode, SampleAnswer
from desktop.core.quiz.results import ModeResult, QuestionResult, QuizSummary
from desktop.core.quiz.settings import DEFAULT_REFUSAL, QuizSettings
from desktop.core.quiz.sft_export import sft_examples, write_sft_jsonl
from desktop.ui.app_settings import AppSettings
from desktop.ui.quiz.answers_html import (
    PROMPT_LINK,
    Prompts,
    answers_html,
    asking_text,
    summary_text,
)
from desktop.ui.quiz.prompt_view import PromptView
from desktop.ui.quiz.quiz_charts import VERDICT_COLOURS, QuizCharts
from desktop.ui.widgets.file_places import suggested
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.record_table import Column, RecordTableModel

__all__ = ["VERDICT_COLOURS", "ResultsPage"]


def _percent(m: ModeResult | None) -> str:
    return f"{m.accuracy:.0%} ({m.correct}/{m.samples})" if m else "–"


def _accuracy(m: ModeResult | None) -> float:
    return m.accuracy if m else -1.0


COLUMNS: list[Column[QuestionResult]] = [
    Column("#", lambda q: str(q.index + 1), sort_key=lambda q: q.index, align_right=True),
    Column("Question", lambda q: q.pair.question, tooltip=lambda q: q.pair.question),
    Column("Reference", lambda q: q.pair.answer),
    Column("Closed book", lambda q: _percent(q.closed), lambda q: _accuracy(q.closed)),
    Column("Agreement", lambda q: f"{q.closed.agreement:.0%}" if q.closed else "–"),
    Column("Confidence", lambda q: f"{q.closed.confidence:.2f}" if q.closed else "–"),
    Column("Verdict", lambda q: q.verdict or "…",
           colour=lambda q: VERDICT_COLOURS.get(q.verdict or "")),
    Column("Open book", lambda q: _percent(q.open), lambda q: _accuracy(q.open)),
]  # fmt: skip


class ResultsPage(QWidget):
    posttrain_requested = Signal(object)  # the training set: list of `messages` dicts
    article_chat_requested = Signal()  # "Chat with the article": open book, your questions

    def __init__(self, stored: AppSettings) -> None:
        super().__init__()
        self._stored = stored
        self._summary: QuizSummary | None = None
        self._settings = QuizSettings()
        self.summary_label = MessageLabel("No run yet: make some questions, then Run.")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.asking_label = MessageLabel("", plain=True)
        self._prompts: Prompts = {}
        self.prompt_view: PromptView | None = None
        self.table_model: RecordTableModel[QuestionResult] = RecordTableModel(COLUMNS)
        self.table = QTableView()
        self.table.setAccessibleName("Results per question")
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()  # the question gets the room; figures fit
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.answers_view = QTextBrowser()
        self.answers_view.setTabChangesFocus(True)
        self.answers_view.setAccessibleName("The model's answers to the selected question")
        self.answers_view.setOpenLinks(False)  # "prompt:…" links open the prompt here
        self.answers_view.anchorClicked.connect(self._on_link)
        self.charts = QuizCharts()
        self.refusal = QLineEdit(DEFAULT_REFUSAL)
        self.refusal.setAccessibleName("What the model should say where it does not know")
        self.refusal.setToolTip("What the model should say where it does not know")
        self.unsure_refuses = QCheckBox("'Unsure' questions get the refusal too")
        self.refusal.setText(stored.get("quiz/refusal"))
        self.unsure_refuses.setChecked(stored.get("quiz/unsure_refuses"))
        self.export_button = QPushButton("Export training set…")
        self.export_button.setEnabled(False)
        self.posttrain_button = QPushButton("Post-train on this")
        self.posttrain_button.setToolTip("Fine-tune the model on this training set in the "
                                         "Post-train tab")  # fmt: skip
        self.posttrain_button.setEnabled(False)
        self.article_chat_button = QPushButton("Chat with the article")
        self.article_chat_button.setToolTip(
            "Open book in the Chat tab: a new conversation with this article attached, to "
            "ask your own questions. Rereading beats remembering; the open-book column "
            "measures how much."
        )
        self.article_chat_button.setEnabled(False)
        self.article_chat_button.clicked.connect(self.article_chat_requested)
        self.export_status = MessageLabel("")
        self._answers: list[SampleAnswer] = []
        self._layout()
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_answers())
        self.export_button.clicked.connect(self._choose_export)
        self.posttrain_button.clicked.connect(lambda: self.posttrain_requested.emit(
            self.training_examples()))  # fmt: skip

    def _layout(self) -> None:
        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(0, 0, 0, 0)
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary_label, 1)
        summary_row.addWidget(self.article_chat_button, 0, Qt.AlignmentFlag.AlignTop)
        tv.addLayout(summary_row)
        tv.addWidget(self.asking_label)
        tv.addWidget(self.table, 1)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.answers_view)
        bottom.addWidget(self.charts)
        bottom.setSizes([380, 620])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([330, 300])
        export = QHBoxLayout()
        export.addWidget(QLabel("Refusal:"))
        export.addWidget(self.refusal, 1)
        export.addWidget(self.unsure_refuses)
        export.addWidget(self.export_button)
        export.addWidget(self.posttrain_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split, 1)
        layout.addLayout(export)
        layout.addWidget(self.export_status)

    def save_values(self) -> None:
        self._stored.set("quiz/refusal", self.refusal.text().strip() or DEFAULT_REFUSAL)
        self._stored.set("quiz/unsure_refuses", self.unsure_refuses.isChecked())

    def show_results(
        self,
        summary: QuizSummary,
        answers: Sequence[SampleAnswer],
        settings: QuizSettings,
        prompts: Prompts | None = None,
    ) -> None:
        row = self.table.currentIndex().row()
        self._summary, self._settings = summary, settings
        self._answers = list(answers)
        self._prompts = prompts or {}
        self.table_model.set_records(summary.questions)
        self.summary_label.setText(summary_text(summary))
        self.asking_label.setText(asking_text(settings))
        self.charts.show_summary(summary)
        self.export_button.setEnabled(any(q.verdict for q in summary.questions))
        self.posttrain_button.setEnabled(self.export_button.isEnabled())
        self.article_chat_button.setEnabled(bool(summary.questions))
        if 0 <= row < len(summary.questions):
            self.table.selectRow(row)
        self._show_answers()

    def selected_question(self) -> QuestionResult | None:
        row = self.table.currentIndex().row()
        return self.table_model.record(row) if 0 <= row < len(self.table_model.records) else None

    @Slot()
    def _show_answers(self) -> None:
        q = self.selected_question()
        if q is None:
            self.answers_view.setHtml("<i>Select a question to see every answer.</i>")
            return
        mine = [a for a in self._answers if a.question_index == q.index]
        self.answers_view.setHtml(answers_html(q, mine, self._prompts))

    @Slot(QUrl)
    def _on_link(self, url: QUrl) -> None:
        scheme, _, rest = url.toString().partition(":")
        index, _, mode = rest.partition(":")
        if scheme == PROMPT_LINK and index.isdigit():
            self.show_prompt(int(index), mode)  # type: ignore[arg-type]

    def show_prompt(self, index: int, mode: Mode) -> PromptView | None:
        """The prompt question `index` got in `mode`, in a window of its own."""
        prompt = self._prompts.get((index, mode))
        questions = self._summary.questions if self._summary else []
        if prompt is None or not 0 <= index < len(questions):
            return None
        if self.prompt_view is not None:
            self.prompt_view.close()
        self.prompt_view = PromptView(questions[index].pair.question, mode, prompt, self)
        self.prompt_view.show()
        return self.prompt_view

    @Slot()
    def _choose_export(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self, "Export training set", suggested("dont_know_sft.jsonl"), "JSON lines (*.jsonl)"
        )
        if path:
            self.export_training_set(Path(path))

    def training_examples(self) -> list[dict[str, Any]]:
        """The shown run's fine-tuning set, with the refusal and 'unsure' choice shown."""
        if self._summary is None:
            return []
        self.save_values()
        refusal = self.refusal.text().strip() or DEFAULT_REFUSAL
        return sft_examples(self._summary.questions, replace(self._settings, refusal=refusal),
                            unsure_refuses=self.unsure_refuses.isChecked())  # fmt: skip

    def export_training_set(self, path: Path) -> int:
        examples = self.training_examples()
        if not examples:
            return 0
        refusal = self.refusal.text().strip() or DEFAULT_REFUSAL
        try:
            write_sft_jsonl(path, examples)
        except OSError as exc:
            self.export_status.setText(f"Could not save {path.name}: {exc.strerror or exc}")
            return 0
        refusals = sum(e["messages"][1]["content"] == refusal for e in examples)
        self.export_status.setText(
            f"Wrote {len(examples)} examples to {path}: {len(examples) - refusals} answers, "
            f"{refusals} refusals."
        )
        return len(examples)

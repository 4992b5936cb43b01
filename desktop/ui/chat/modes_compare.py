"""The lesson of base models, in one window: the same question asked as raw text (the model
continues it), through the base-model prompt (identity and examples), and - for a model
trained to chat - through its chat template, side by side with each prompt's size.

Each reply is an engine task of its own, asked one after the other; the answers are not
stored in any conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.chat.context_fit import FittedPrompt
from desktop.core.chat.generation import ChatMessage, TokenEvent
from desktop.core.chat.prompt_builder import MODE_LABELS, PromptMode
from desktop.engine.engine_task import ReplyTask
from desktop.engine.inference_engine import InferenceEngine

EXPLAIN: dict[PromptMode, str] = {
    "raw": "The question is the whole document: the model continues it.",
    "base": "A transcript with an identity and examples: the likeliest continuation is an answer.",
    "template": "The format the model was trained to chat in.",
}


class ModeColumn(QWidget):
    def __init__(self, mode: PromptMode) -> None:
        super().__init__()
        self.mode = mode
        self.title = QLabel(f"<b>{MODE_LABELS[mode].capitalize()}</b>")
        self.about = QLabel(EXPLAIN[mode])
        self.about.setWordWrap(True)
        self.reply = QPlainTextEdit()
        self.reply.setReadOnly(True)
        self.figures = QLabel("")
        self.figures.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.title, self.about, self.reply, self.figures):
            layout.addWidget(widget)

    def clear(self) -> None:
        self.reply.setPlainText("")
        self.figures.setText("waiting…")


class ModesCompareDialog(QDialog):
    def __init__(
        self,
        engine: InferenceEngine,
        make_request: Callable[[Sequence[ChatMessage]], ChatRequest],
        modes: Sequence[PromptMode],
        question: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("One question, three ways of asking")
        self.engine = engine
        self.make_request = make_request
        self.question = QLineEdit(question or "Who wrote Romeo and Juliet?")
        self.ask_button = QPushButton("Ask")
        self.columns = {mode: ModeColumn(mode) for mode in modes}
        self.tasks: dict[PromptMode, ReplyTask] = {}
        row = QHBoxLayout()
        row.addWidget(QLabel("Question:"))
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        grid = QGridLayout()
        for n, column in enumerate(self.columns.values()):
            grid.addWidget(column, 0, n)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(grid, 1)
        layout.addWidget(buttons)
        self.resize(1000, 520)
        self.ask_button.clicked.connect(self.ask)
        self.question.returnPressed.connect(self.ask)

    @property
    def busy(self) -> bool:
        return bool(self.tasks)

    @Slot()
    def ask(self) -> None:
        text = self.question.text().strip()
        if not text or self.busy:
            return
        for mode, column in self.columns.items():
            column.clear()
            request = self.make_request([ChatMessage("user", text)])
            task = ReplyTask(ChatRequest(request.messages, request.sampling, mode=mode,
                                         style=request.style, overflow="stop",
                                         threads=request.threads))  # fmt: skip
            task.prompt_ready.connect(self._on_prompt)
            task.tokens.connect(self._on_tokens)
            task.finished.connect(self._on_finished)
            task.ended.connect(self._on_ended)
            self.tasks[mode] = task
            self.engine.run_task(task)  # queued: the engine asks them one after the other
        self.ask_button.setEnabled(False)

    def _column(self) -> ModeColumn | None:
        for mode, task in self.tasks.items():
            if task is self.sender():
                return self.columns[mode]
        return None

    @Slot(object)
    def _on_prompt(self, fitted: FittedPrompt) -> None:
        if (column := self._column()) is not None:
            note = f" · {fitted.plan.note}" if fitted.plan.note else ""
            column.figures.setText(f"prompt: {fitted.prompt_tokens:,} tokens{note}")

    @Slot(object)
    def _on_tokens(self, batch: Sequence[TokenEvent]) -> None:
        if (column := self._column()) is not None:
            column.reply.insertPlainText("".join(e.text for e in batch))

    @Slot(object)
    def _on_finished(self, reply: ChatReply) -> None:
        if (column := self._column()) is not None:
            stats = reply.stats
            column.figures.setText(f"{column.figures.text()} · reply {stats.generated_tokens} "
                                   f"tokens, stopped: {stats.stop_reason}")  # fmt: skip

    @Slot(str, str)
    def _on_ended(self, status: str, message: str) -> None:
        column = self._column()
        if column is not None and status == "failed":
            column.figures.setText(f"⚠ {message}")
        self.tasks = {m: t for m, t in self.tasks.items() if t is not self.sender()}
        self.ask_button.setEnabled(not self.tasks)

    def reject(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        super().reject()

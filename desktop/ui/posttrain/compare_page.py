"""Compare with the original: one prompt, the model before and after fine-tuning, their
replies side by side (each asked as the Chat tab would ask it, greedy, in a model host of
its own so the Chat tab's model stays loaded)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engine.jobs import Jobs
from desktop.engine.reply_compare import ComparedReply
from desktop.ui.widgets.message_label import MessageLabel


class ComparePage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.jobs = Jobs(self)
        self.prompt = QLineEdit("What is your name?")
        self.prompt.setAccessibleName("The prompt both models get")
        self.ask_button = QPushButton("Ask both")
        self.status = MessageLabel("Export a fine-tuned model, then ask it and the original the "
                                   "same question.")  # fmt: skip
        self.status.setWordWrap(True)
        self.titles = (QLabel("Original"), QLabel("Fine-tuned"))
        self.replies = (QPlainTextEdit(), QPlainTextEdit())
        for title, reply, name in zip(self.titles, self.replies, ("original", "fine-tuned"),
                                      strict=True):  # fmt: skip
            title.setWordWrap(True)
            reply.setReadOnly(True)
            reply.setTabChangesFocus(True)
            reply.setAccessibleName(f"The {name} model's reply")
        self.paths: tuple[Path, Path] | None = None
        row = QHBoxLayout()
        row.addWidget(self.prompt, 1)
        row.addWidget(self.ask_button)
        grid = QGridLayout()
        for column in (0, 1):
            grid.addWidget(self.titles[column], 0, column)
            grid.addWidget(self.replies[column], 1, column)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addLayout(grid, 1)
        self.ask_button.clicked.connect(self.ask)
        self.prompt.returnPressed.connect(self.ask)
        self.set_models(None)

    def set_models(self, paths: tuple[Path, Path] | None) -> None:
        self.paths = paths
        self.ask_button.setEnabled(paths is not None)
        if paths is not None:
            for title, path, what in zip(self.titles, paths, ("Before", "After"), strict=True):
                title.setText(f"{what}: {path.name}")

    @Slot()
    def ask(self) -> None:
        prompt = self.prompt.text().strip()
        if self.paths is None or not prompt:
            return
        from desktop.engine.reply_compare import compare_replies

        paths = self.paths
        self.ask_button.setEnabled(False)
        for reply in self.replies:
            reply.setPlainText("…")
        self.status.setText("Loading each model in turn and asking it…")
        self.jobs.start("compare", lambda _c: compare_replies(paths, prompt), done=self._show,
                        failed=self._failed)  # fmt: skip

    def _show(self, replies: tuple[ComparedReply, ComparedReply]) -> None:
        for view, reply in zip(self.replies, replies, strict=True):
            view.setPlainText(("⚠ " if reply.failed else "") + (reply.text or "(nothing)"))
        self.status.setText("Greedy replies (temperature 0), each model with its own chat format.")
        self.ask_button.setEnabled(self.paths is not None)

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"⚠ {exc}")
        self.ask_button.setEnabled(self.paths is not None)

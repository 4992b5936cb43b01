"""The Lessons panel: the talk's steps, one at a time, beside the tab each step is about.

Space or → goes on, ← goes back (when the panel has the keyboard), and each step opens its
tab with its example filled in. Where each lesson was left is remembered.
"""

from __future__ import annotations

import html
import json

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.lessons import Lesson, Step, load_lessons
from desktop.core.resources import resources_dir
from desktop.ui.app_settings import AppSettings
from desktop.ui.widgets.plain_text import NO_HTML_MARKDOWN


class LessonsPanel(QDockWidget):
    step_shown = Signal(object)  # Step: the window opens its tab and fills its example

    def __init__(self, settings: AppSettings) -> None:
        super().__init__("Lessons")
        self.setObjectName("lessons")
        self.settings = settings
        self.lessons, problems = load_lessons(resources_dir() / "lessons")
        self.picker = QComboBox()
        for lesson in self.lessons:
            self.picker.addItem(lesson.title, lesson.key)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.position = QLabel()
        self.back_button = QPushButton("← Back")
        self.next_button = QPushButton("Next →")
        self.problems = QLabel("\n".join(problems))
        self.problems.setVisible(bool(problems))
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.position, 1, Qt.AlignmentFlag.AlignCenter)
        buttons.addWidget(self.next_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.picker)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.problems)
        self.setWidget(body)
        self.setMinimumWidth(260)
        self.index = 0
        self.picker.currentIndexChanged.connect(self._on_lesson)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.forward)
        for keys, slot in (("Space", self.forward), ("Right", self.forward),
                           ("Left", self.back)):  # fmt: skip
            shortcut = QShortcut(QKeySequence(keys), body)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        if self.lessons:
            self._on_lesson(0)

    @property
    def lesson(self) -> Lesson | None:
        index = self.picker.currentIndex()
        return self.lessons[index] if 0 <= index < len(self.lessons) else None

    def _progress(self) -> dict[str, int]:
        try:
            stored = json.loads(self.settings.get("lessons/progress") or "{}")
        except ValueError:
            return {}
        return stored if isinstance(stored, dict) else {}

    @Slot(int)
    def _on_lesson(self, _index: int) -> None:
        lesson = self.lesson
        if lesson is not None:
            saved = int(self._progress().get(lesson.key, 0))
            self.show_step(min(max(0, saved), len(lesson.steps) - 1))

    def show_step(self, index: int) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        self.index = index
        step: Step = lesson.steps[index]
        self.title.setText(f"<b>{index + 1}. {html.escape(step.title)}</b>")
        # *words* in italics, a paragraph per blank line; raw HTML shown as text (a lesson
        # is a file anyone may add)
        self.text.document().setMarkdown(step.text, NO_HTML_MARKDOWN)
        self.position.setText(f"{index + 1} / {len(lesson.steps)}")
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(lesson.steps) - 1)
        progress = self._progress()
        progress[lesson.key] = index
        self.settings.set("lessons/progress", json.dumps(progress))
        self.step_shown.emit(step)

    @Slot()
    def forward(self) -> None:
        lesson = self.lesson
        if lesson is not None and self.index < len(lesson.steps) - 1:
            self.show_step(self.index + 1)

    @Slot()
    def back(self) -> None:
        if self.index > 0:
            self.show_step(self.index - 1)

"""The run's settings: samples per question, temperature, open book, judge, and the
thresholds that turn accuracy into a verdict."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from desktop.core.quiz.settings import QuizSettings
from desktop.ui.app_settings import AppSettings


class SettingsPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        d = QuizSettings()
        self.samples = QSpinBox(minimum=1, maximum=20, value=d.samples)
        self.samples.setToolTip("K: each question is asked this many times. A model that "
                                "knows gives the same right answer every time.")  # fmt: skip
        self.temperature = _fraction(d.temperature, 2.0)
        self.max_tokens = QSpinBox(minimum=4, maximum=256, value=d.max_tokens)
        self.open_book = QCheckBox("Also ask open book")
        self.open_book.setToolTip("Ask again with the article in the prompt")
        self.open_book.setChecked(d.open_book)
        self.judge = QCheckBox("The model grades too")
        self.judge.setToolTip("The model judges each answer with the article as reference. "
                              "Slower, and a small model is an unreliable judge; the method "
                              "used is shown per answer.")  # fmt: skip
        self.knows_at = _fraction(d.knows_at, 1.0)
        self.doesnt_know_at = _fraction(d.doesnt_know_at, 1.0)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Samples per question:", self.samples)
        form.addRow("Temperature:", self.temperature)
        form.addRow("Answer length (tokens):", self.max_tokens)
        form.addRow(self.open_book)
        form.addRow(self.judge)
        form.addRow("'Knows' from accuracy:", self.knows_at)
        form.addRow("'Doesn't know' up to:", self.doesnt_know_at)

    def load(self, stored: AppSettings) -> None:
        """The values used last time."""
        known = QuizSettings().to_dict()
        self.show_settings(QuizSettings.from_dict({k: stored.get(f"quiz/{k}") for k in known}))

    def save(self, stored: AppSettings) -> None:
        for name, value in self.settings().to_dict().items():
            if name not in ("refusal", "seed"):  # the refusal is the results page's
                stored.set(f"quiz/{name}", value)

    def settings(self) -> QuizSettings:
        return QuizSettings(
            samples=self.samples.value(),
            temperature=self.temperature.value(),
            max_tokens=self.max_tokens.value(),
            open_book=self.open_book.isChecked(),
            judge=self.judge.isChecked(),
            knows_at=self.knows_at.value(),
            doesnt_know_at=self.doesnt_know_at.value(),
        )

    def show_settings(self, s: QuizSettings) -> None:
        self.samples.setValue(s.samples)
        self.temperature.setValue(s.temperature)
        self.max_tokens.setValue(s.max_tokens)
        self.open_book.setChecked(s.open_book)
        self.judge.setChecked(s.judge)
        self.knows_at.setValue(s.knows_at)
        self.doesnt_know_at.setValue(s.doesnt_know_at)


def _fraction(value: float, maximum: float) -> QDoubleSpinBox:
    return QDoubleSpinBox(decimals=2, minimum=0.0, maximum=maximum, singleStep=0.05, value=value)

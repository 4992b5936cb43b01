"""The run's settings: how the model is asked (as a base or an instruct model, whether it
may say "I don't know"), samples per question, temperature, open book, judge, and the
thresholds that turn answers into a verdict."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.quiz.quiz_prompts import a_kind
from desktop.core.quiz.settings import QuizSettings
from desktop.engine.protocol import LoadedModel
from desktop.engine.quiz_ask import model_kind
from desktop.ui.app_settings import AppSettings

ASK_AS = {"auto": "Automatic", "base": "Base model", "instruct": "Instruct model"}
NOT_SAVED = ("refusal", "seed", "asked_as")  # the results page's; per run; fixed at start


class QuizSettingsPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        d = QuizSettings()
        self._model: LoadedModel | None = None
        self.ask_as = QComboBox()
        for key, label in ASK_AS.items():
            self.ask_as.addItem(label, key)
        self.ask_as.setToolTip(
            "A base model only continues text: it is given the article's sentence up to the "
            "missing fact. An instruct model is asked the question. Automatic reads which "
            "from the model: its name (…-it, …-instruct, …-base) and its chat template."
        )
        self.asked_as = QLabel("")  # how the loaded model will be asked, and why
        self.asked_as.setWordWrap(True)
        self.may_refuse = QCheckBox("The model may say “I don't know”")
        self.may_refuse.setToolTip(
            "On: the instruction says a refusal is fine (instruct), or the question list "
            "shows one (base models are then asked questions, not continuations). Off: no "
            "prompt mentions or shows a refusal, so none is taught by the prompt."
        )
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
        self.confident_at = _fraction(d.confident_at, 1.0)
        self.confident_at.setToolTip(
            "Wrong answers whose tokens had at least this mean probability (or the same "
            "wrong answer most times) make the verdict 'hallucinates'; scattered, unsure "
            "ones 'doesn't know'."
        )
        ask = QFormLayout()
        ask.addRow("Ask as:", self.ask_as)
        form = QFormLayout()
        form.addRow(self.may_refuse)
        form.addRow("Samples per question:", self.samples)
        form.addRow("Temperature:", self.temperature)
        form.addRow("Answer length (tokens):", self.max_tokens)
        form.addRow(self.open_book)
        form.addRow(self.judge)
        form.addRow("'Knows' from accuracy:", self.knows_at)
        form.addRow("Wrong up to accuracy:", self.doesnt_know_at)
        form.addRow("'Hallucinates' from confidence:", self.confident_at)
        layout = QVBoxLayout(self)  # the sentence between the forms wraps to its height
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(ask)
        layout.addWidget(self.asked_as)
        layout.addLayout(form)
        self.ask_as.currentIndexChanged.connect(self._show_kind)
        self.may_refuse.toggled.connect(self._show_kind)
        self._show_kind()

    def set_model(self, model: LoadedModel | None) -> None:
        self._model = model
        self._show_kind()

    @Slot()
    def _show_kind(self) -> None:
        if self._model is None:
            self.asked_as.setText("")
            return
        kind, why = model_kind(self._model, self.ask_as.currentData())
        refuse = self.may_refuse.isChecked()
        if kind == "instruct":
            how = "each question as a chat message" + (", told that “I don't know” is an "
                                                       "answer" if refuse else "")  # fmt: skip
        elif refuse:
            how = ("as Question … Answer …, with one example answer “I don't know” (a "
                   "continuation has no place for one)")  # fmt: skip
        else:
            how = ("it continues the article's sentence up to each fact (a question without "
                   "one: as Question … Answer …)")  # fmt: skip
        self.asked_as.setText(f"Asked as {a_kind(kind)} ({why}): {how}.")

    def load(self, stored: AppSettings) -> None:
        """The values used last time."""
        known = QuizSettings().to_dict()
        self.show_settings(QuizSettings.from_dict({k: stored.get(f"quiz/{k}") for k in known}))

    def save(self, stored: AppSettings) -> None:
        for name, value in self.quiz_settings().to_dict().items():
            if name not in NOT_SAVED:
                stored.set(f"quiz/{name}", value)

    def quiz_settings(self) -> QuizSettings:
        return QuizSettings(
            samples=self.samples.value(),
            temperature=self.temperature.value(),
            max_tokens=self.max_tokens.value(),
            open_book=self.open_book.isChecked(),
            judge=self.judge.isChecked(),
            knows_at=self.knows_at.value(),
            doesnt_know_at=self.doesnt_know_at.value(),
            confident_at=self.confident_at.value(),
            ask_as=str(self.ask_as.currentData()),
            may_refuse=self.may_refuse.isChecked(),
        )

    def show_settings(self, s: QuizSettings) -> None:
        self.samples.setValue(s.samples)
        self.temperature.setValue(s.temperature)
        self.max_tokens.setValue(s.max_tokens)
        self.open_book.setChecked(s.open_book)
        self.judge.setChecked(s.judge)
        self.knows_at.setValue(s.knows_at)
        self.doesnt_know_at.setValue(s.doesnt_know_at)
        self.confident_at.setValue(s.confident_at)
        self.ask_as.setCurrentIndex(max(0, self.ask_as.findData(s.ask_as)))
        self.may_refuse.setChecked(s.may_refuse)


def _fraction(value: float, maximum: float) -> QDoubleSpinBox:
    return QDoubleSpinBox(decimals=2, minimum=0.0, maximum=maximum, singleStep=0.05, value=value)

"""Class mode: one question at a time, big enough for a projector. The class first bets
whether the model knows the answer, makes one up, or doesn't know; then the K answers,
grades and confidence are revealed, and a running score is kept. A bet on "knows" wins
only on a "knows" verdict, one on "makes it up" only on "hallucinates"; "doesn't know"
wins on "doesn't know" and on "unsure" (a lucky guess is not knowledge)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.quiz.interrogation import SampleAnswer
from desktop.core.quiz.results import QuestionResult, QuizSummary
from desktop.ui.quiz.answers_html import answers_html

Bet = Literal["knows", "hallucinates", "doesn't know"]


class ClassMode(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.questions: list[QuestionResult] = []
        self.answers: list[SampleAnswer] = []
        self.position = 0
        self.bets: dict[int, Bet] = {}  # question index -> the class's bet
        self.revealed: set[int] = set()  # no betting on a question once its answers are out
        self.counter = QLabel("")
        self.score = QLabel("")
        self.question = QLabel("Run a quiz first: class mode shows its questions one by one.")
        self.question.setWordWrap(True)
        self.question.setTextFormat(Qt.TextFormat.PlainText)  # model-written questions
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.bet_knows = QPushButton("The model knows it")
        self.bet_made_up = QPushButton("It makes something up")
        self.bet_not = QPushButton("The model doesn't know")
        self.reveal = QPushButton("Reveal")
        self.verdict = QLabel("")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.details = QTextBrowser()
        self.previous = QPushButton("◀ Previous")
        self.next = QPushButton("Next ▶")
        self.full_screen = QPushButton("Full screen")
        self._style()
        self._layout()
        self.bet_knows.clicked.connect(lambda: self.place_bet("knows"))
        self.bet_made_up.clicked.connect(lambda: self.place_bet("hallucinates"))
        self.bet_not.clicked.connect(lambda: self.place_bet("doesn't know"))
        self.reveal.clicked.connect(self.show_answers)
        self.previous.clicked.connect(lambda: self.go(self.position - 1))
        self.next.clicked.connect(lambda: self.go(self.position + 1))
        self.full_screen.clicked.connect(self._toggle_full_screen)
        self._show()

    def _style(self) -> None:
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 2.2)
        self.question.setFont(big)
        self.verdict.setFont(big)
        bigger = QFont(self.font())
        bigger.setPointSizeF(bigger.pointSizeF() * 1.4)
        for widget in (self.bet_knows, self.bet_made_up, self.bet_not, self.reveal,
                       self.details, self.score, self.counter):  # fmt: skip
            widget.setFont(bigger)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.counter)
        top.addStretch(1)
        top.addWidget(self.score)
        top.addWidget(self.full_screen)
        bets = QHBoxLayout()
        bets.addStretch(1)
        for button in (self.bet_knows, self.bet_made_up, self.bet_not, self.reveal):
            bets.addWidget(button)
        bets.addStretch(1)
        nav = QHBoxLayout()
        nav.addWidget(self.previous)
        nav.addStretch(1)
        nav.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.question, 2)
        layout.addLayout(bets)
        layout.addWidget(self.verdict)
        layout.addWidget(self.details, 3)
        layout.addLayout(nav)

    def set_results(self, summary: QuizSummary, answers: Sequence[SampleAnswer]) -> None:
        """New results keep the bets and the position (answers arrive while the class plays)."""
        self.questions = [q for q in summary.questions if q.verdict is not None]
        self.answers = list(answers)
        self.position = min(self.position, max(0, len(self.questions) - 1))
        self._show()

    def restart(self) -> None:
        self.bets.clear()
        self.revealed.clear()
        self.position = 0
        self._show()

    def current(self) -> QuestionResult | None:
        return self.questions[self.position] if self.questions else None

    def place_bet(self, bet: Bet) -> None:
        q = self.current()
        if q is not None and q.index not in self.bets and q.index not in self.revealed:
            self.bets[q.index] = bet
            self.revealed.add(q.index)
            self._show()

    @Slot()
    def show_answers(self) -> None:
        q = self.current()
        if q is None:
            return
        if q.index not in self.revealed:
            self.revealed.add(q.index)
            self._show()  # locks the bet buttons, then comes back here
            return
        mine = [a for a in self.answers if a.question_index == q.index]
        self.details.setHtml(answers_html(q, mine))
        bet = self.bets.get(q.index)
        won = "" if bet is None else (" · the class was right!" if _won(bet, q) else
                                      " · the class was wrong")  # fmt: skip
        self.verdict.setText(f"The model {_verdict_words(q)}{won}")
        self._update_score()

    def go(self, position: int) -> None:
        if 0 <= position < len(self.questions):
            self.position = position
            self._show()

    def class_score(self) -> tuple[int, int]:
        by_index = {q.index: q for q in self.questions}
        judged = [(bet, by_index[i]) for i, bet in self.bets.items() if i in by_index]
        return sum(_won(bet, q) for bet, q in judged), len(judged)

    def _show(self) -> None:
        q = self.current()
        self.details.clear()
        self.verdict.setText("")
        bets = (self.bet_knows, self.bet_made_up, self.bet_not)
        for button in (*bets, self.reveal, self.previous, self.next):
            button.setEnabled(q is not None)
        if q is None:
            self.counter.setText("")
            self._update_score()
            return
        self.counter.setText(f"Question {self.position + 1} of {len(self.questions)}")
        self.question.setText(q.pair.question)
        self.previous.setEnabled(self.position > 0)
        self.next.setEnabled(self.position < len(self.questions) - 1)
        for button in bets:
            button.setEnabled(q.index not in self.revealed)
        if q.index in self.revealed:
            self.show_answers()
        self._update_score()

    def _update_score(self) -> None:
        right, total = self.class_score()
        self.score.setText(f"Class: {right} of {total} right" if total else "")

    @Slot()
    def _toggle_full_screen(self) -> None:
        window = self.window()
        if window.isFullScreen():
            window.showNormal()
            self.full_screen.setText("Full screen")
        else:
            window.showFullScreen()
            self.full_screen.setText("Leave full screen")


def _won(bet: Bet, q: QuestionResult) -> bool:
    if bet == "doesn't know":
        return q.verdict in ("doesn't know", "unsure")
    return bet == q.verdict


VERDICT_WORDS = {
    "knows": "knows it",
    "hallucinates": "makes something up, with confidence",
    "doesn't know": "doesn't know it",
    "unsure": "is unsure",
}


def _verdict_words(q: QuestionResult) -> str:
    accuracy = q.closed.accuracy if q.closed else 0.0
    return VERDICT_WORDS[q.verdict or "unsure"] + f" ({accuracy:.0%} right)"

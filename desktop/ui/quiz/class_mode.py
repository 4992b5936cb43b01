"""Class mode: one question at a time, big enough for a projector. The class first bets
whether the model knows the answer, makes one up, or doesn't know; then the K answers,
grades and confidence are revealed, and a running score is kept. A bet on "knows" wins
only on a "knows" verdict, one on "makes it up" only on "hallucinates"; "doesn't know"
wins on "doesn't know" and on "unsure" (a lucky guess is not knowledge)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout,
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
from desktop.ui.widgets.full_screen import FullScreenPage, enclosing_tabs

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
        self.bet_label = QLabel("The class bets: the model…")
        self.bet_knows = QPushButton("knows it (K)")
        self.bet_made_up = QPushButton("makes something up (M)")
        self.bet_not = QPushButton("doesn't know (D)")
        self.reveal = QPushButton("Reveal (Space)")
        self.verdict = QLabel("")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict.setWordWrap(True)
        self.details = QTextBrowser()
        self.details.setTabChangesFocus(True)
        self.details.setAccessibleName("The question's answers")
        self.previous = QPushButton("◀ Previous (P)")
        self.next = QPushButton("Next (N) ▶")
        self.full_screen = QPushButton("Full screen (F)")
        self.full: FullScreenPage | None = None
        self._style(1.0)
        self._layout()
        self.bet_knows.clicked.connect(lambda: self.place_bet("knows"))
        self.bet_made_up.clicked.connect(lambda: self.place_bet("hallucinates"))
        self.bet_not.clicked.connect(lambda: self.place_bet("doesn't know"))
        self.reveal.clicked.connect(self.show_answers)
        self.previous.clicked.connect(lambda: self.go(self.position - 1))
        self.next.clicked.connect(lambda: self.go(self.position + 1))
        self.full_screen.clicked.connect(self._toggle_full_screen)
        self._keys()
        self._show()

    def _style(self, scale: float) -> None:
        """Large type; larger still on the full screen, for the back of the room."""
        self._scale = scale
        base = QFont(self.font())  # the application's, zoomed or not: never set on self
        big = QFont(base)
        big.setPointSizeF(base.pointSizeF() * 2.2 * scale)
        self.question.setFont(big)
        self.verdict.setFont(big)
        bigger = QFont(base)
        bigger.setPointSizeF(base.pointSizeF() * 1.4 * scale)
        for widget in (self.bet_label, self.bet_knows, self.bet_made_up, self.bet_not, self.reveal,
                       self.details, self.score, self.counter, self.previous, self.next,
                       self.full_screen):  # fmt: skip
            widget.setFont(bigger)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:  # the presenter zoomed
            self._style(self._scale)
        super().changeEvent(event)

    def _keys(self) -> None:
        """One key per move, so a presenter never needs the mouse."""
        keys = {
            Qt.Key.Key_K: lambda: self.place_bet("knows"),
            Qt.Key.Key_M: lambda: self.place_bet("hallucinates"),
            Qt.Key.Key_D: lambda: self.place_bet("doesn't know"),
            Qt.Key.Key_Space: self.show_answers,
            Qt.Key.Key_N: lambda: self.go(self.position + 1),
            Qt.Key.Key_Right: lambda: self.go(self.position + 1),
            Qt.Key.Key_P: lambda: self.go(self.position - 1),
            Qt.Key.Key_Left: lambda: self.go(self.position - 1),
            Qt.Key.Key_F: self._toggle_full_screen,
        }
        for key, action in keys.items():
            shortcut = QShortcut(QKeySequence(key), self, action)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.counter)
        top.addStretch(1)
        top.addWidget(self.score)
        top.addWidget(self.full_screen)
        bets = QGridLayout()  # two by two: fits a 1024-pixel projector at full-screen size
        bets.addWidget(self.bet_label, 0, 0, 1, 2)
        bets.addWidget(self.bet_knows, 1, 0)
        bets.addWidget(self.bet_made_up, 1, 1)
        bets.addWidget(self.bet_not, 2, 0)
        bets.addWidget(self.reveal, 2, 1)
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
        for button in (*bets, self.reveal):  # once out, nothing more to bet on or reveal
            button.setEnabled(q.index not in self.revealed)
        if q.index in self.revealed:
            self.show_answers()
        self._update_score()

    def _update_score(self) -> None:
        right, total = self.class_score()
        self.score.setText(f"Class: {right} of {total} right" if total else "")

    @Slot()
    def _toggle_full_screen(self) -> None:
        if self.full is not None:
            self.full.leave()
            return
        tabs = enclosing_tabs(self)
        if tabs is None:
            return
        self.full = FullScreenPage(self, tabs)
        self.full.left.connect(self._left_full_screen)
        self.full_screen.setText("Leave full screen (Esc)")
        self._style(1.4)
        self.setFocus()

    @Slot()
    def _left_full_screen(self) -> None:
        self.full = None
        self.full_screen.setText("Full screen (F)")
        self._style(1.0)


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

"""Step 1 of the quiz: an article, and the question–answer pairs made from it (by rules,
by the loaded model, by hand, or from a file), in an editable table."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.quiz.articles import Article, ArticleError, bundled_articles, load_article
from desktop.core.quiz.cloze import cloze_pairs
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.qa_io import QAFileError, read_pairs, write_pairs
from desktop.core.quiz.qa_parse import parse_qa_pairs
from desktop.core.quiz.quiz_store import pair_from_row, pair_row
from desktop.ui.quiz.qa_table_model import QATableModel
from desktop.ui.widgets.file_places import documents_dir, suggested
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.plain_text import plain_tooltip

OPEN_FILE = "Open a file (text, Markdown, web page)…"
NOTHING_PARSED = ("The model's reply had no questions with answers in it. Small models often "
                  "can't do this: try the sentence rules.")  # fmt: skip
EMPTY_HINT = ("No questions yet: make them from the article's sentences, let the loaded model "
              "write some, type them (Add) or import a file.")  # fmt: skip
INVENTED_NOTE = "An invented subject: no model can know it. A good test of 'I don't know'."


class QuestionsPage(QWidget):
    model_questions_requested = Signal(int)  # how many the model should write

    def __init__(self) -> None:
        super().__init__()
        self.articles = bundled_articles()
        self.article_picker = QComboBox()
        self.article_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.article_picker.setMinimumContentsLength(14)  # long titles: elided, not widening
        for article in self.articles:
            self.article_picker.addItem(_label(article), article)
        self.article_picker.addItem(OPEN_FILE)
        self.article_note = MessageLabel("")
        self.article_note.setWordWrap(True)
        self.article_text = QPlainTextEdit()
        self.article_text.setTabChangesFocus(True)
        self.article_text.setAccessibleName("Article text")
        self.article_text.setPlaceholderText("Pick an article above, or paste any text here.")
        self.article_title = ""
        self._shown_text = ""  # the text as shown, to tell when the user has changed it
        # questions belong to their article: switching articles keeps each one's own
        self._questions_by_article: dict[str, list[QAPair]] = {}
        self.table_model = QATableModel()
        self.table = QTableView()
        self.table.setAccessibleName("Questions and answers")
        self.table.setModel(self.table_model)
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the question
        self.rules_button = QPushButton("Make questions from sentences")
        self.rules_button.setToolTip("Questions about the names, dates and numbers in the "
                                     "article's sentences (who, what year, how many; else "
                                     "fill in the blank), and for base models the sentence "
                                     "up to the fact, to continue: works with any model, "
                                     "even a tiny one.")  # fmt: skip
        self.model_button = QPushButton("Let the model write questions")
        self.model_button.setToolTip("The loaded model reads the article and writes questions")
        self.count = QSpinBox(minimum=1, maximum=30, value=8, suffix=" questions")
        self.count.setAccessibleName("How many questions to make")
        self.add_button = QPushButton("Add")
        self.delete_button = QPushButton("Delete")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        # File names and what a model wrote are shown here: as text, never as HTML.
        self.status = MessageLabel(EMPTY_HINT, plain=True)
        self._layout()
        self.article_picker.activated.connect(self._on_article_picked)
        self.rules_button.clicked.connect(self.make_rule_questions)
        self.model_button.clicked.connect(
            lambda: self.model_questions_requested.emit(self.count.value())
        )
        self.add_button.clicked.connect(self._add_blank)
        self.delete_button.clicked.connect(self._delete_selected)
        self.import_button.clicked.connect(self._choose_import)
        self.export_button.clicked.connect(self._choose_export)
        if self.articles:
            self.show_article(self.articles[0])

    def _layout(self) -> None:
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("<b>1 · Article</b>"))
        lv.addWidget(self.article_picker)
        lv.addWidget(self.article_note)
        lv.addWidget(self.article_text, 1)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("<b>2 · Questions and reference answers</b> (double-click to edit)")
        heading.setWordWrap(True)
        rv.addWidget(heading)
        make = QGridLayout()  # two rows: the page fits beside the quiz panel at 1024 pixels
        make.addWidget(self.rules_button, 0, 0)
        make.addWidget(self.model_button, 1, 0)
        make.addWidget(self.count, 1, 1)
        make.setColumnStretch(2, 1)
        rv.addLayout(make)
        rv.addWidget(self.table, 1)
        edit = QHBoxLayout()
        for button in (self.add_button, self.delete_button, self.import_button,
                       self.export_button):  # fmt: skip
            edit.addWidget(button)
        edit.addStretch(1)
        rv.addLayout(edit)
        rv.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([420, 580])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    # ---- the article ---------------------------------------------------------------

    def article(self) -> tuple[str, str]:
        """The title and text a run will use: the text as it is now in the editor, and the
        article's title only while that text is still the article's own."""
        text = self.article_text.toPlainText().strip()
        if self.article_title and text == self._shown_text:
            return self.article_title, text
        return (f"{self.article_title} (edited)" if self.article_title else "Pasted text"), text

    def show_article(self, article: Article) -> None:
        self.show_text(article.title, article.text)
        self.article_note.setText(INVENTED_NOTE if article.invented else "")

    def show_text(self, title: str, text: str) -> None:
        """Show an article, with the questions made for it before (none for a new one)."""
        if title != self.article_title:
            self._questions_by_article[self.article_title] = list(self.table_model.pairs)
            self.table_model.set_pairs(self._questions_by_article.pop(title, []))
        self.article_title = title
        self._shown_text = text.strip()
        self.article_text.setPlainText(text)
        self.article_note.setText("")

    # ---- kept across restarts ------------------------------------------------------

    def draft(self) -> dict[str, object]:
        """What is on this page, to be shown again after a restart."""

        def rows(pairs: list[QAPair]) -> list[list[str]]:
            return [pair_row(p) for p in pairs]

        return {
            "title": self.article_title,
            "shown_text": self._shown_text,
            "text": self.article_text.toPlainText(),
            "pairs": rows(self.table_model.pairs),
            "by_article": {k: rows(v) for k, v in self._questions_by_article.items() if v},
        }

    def restore(self, draft: dict[str, object]) -> None:
        def pairs(rows: object) -> list[QAPair]:
            found = [pair_from_row(row) for row in rows] if isinstance(rows, list) else []
            return [pair for pair in found if pair is not None]

        by_article = draft.get("by_article")
        if isinstance(by_article, dict):
            self._questions_by_article = {str(k): pairs(v) for k, v in by_article.items()}
        self.article_title = str(draft.get("title", ""))
        self._shown_text = str(draft.get("shown_text", ""))
        self.article_text.setPlainText(str(draft.get("text", "")))
        titles = [self.article_picker.itemData(i).title
                  for i in range(self.article_picker.count() - 1)]  # fmt: skip
        if self.article_title in titles:
            self.article_picker.setCurrentIndex(titles.index(self.article_title))
        self.table_model.set_pairs(pairs(draft.get("pairs")))
        if self.table_model.pairs:
            self.status.setText(f"{len(self.table_model.pairs)} questions, as you left them.")

    def open_article(self, path: Path) -> bool:
        try:
            article = load_article(path)
        except ArticleError as exc:
            self.status.setText(str(exc))
            return False
        self.show_article(article)
        self.article_picker.insertItem(self.article_picker.count() - 1, _label(article), article)
        self.article_picker.setCurrentIndex(self.article_picker.count() - 2)
        self.status.setText(f"Opened {path.name}.")
        return True

    @Slot(int)
    def _on_article_picked(self, index: int) -> None:
        article = self.article_picker.itemData(index)
        if isinstance(article, Article):
            self.show_article(article)
            return
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open an article",
            str(documents_dir()),
            "Articles (*.txt *.md *.markdown *.html *.htm);;All (*)",
        )
        if not path or not self.open_article(Path(path)):
            self.article_picker.setCurrentIndex(max(0, self.article_picker.count() - 2))

    # ---- the pairs -----------------------------------------------------------------

    @Slot()
    def make_rule_questions(self) -> int:
        # "About <title>: …": closed book, "she" or "the tower" needs its subject named
        # (pasted or edited text has no title to trust)
        title, text = self.article()
        topic = title if text == self._shown_text and self.article_title else None
        added = self.table_model.add_pairs(cloze_pairs(text, limit=self.count.value(), topic=topic))
        self.status.setText(
            f"Added {added} questions from the article's sentences." if added
            else "No new questions: the text has no sentences with names, dates or numbers left."
        )  # fmt: skip
        return added

    @Slot(str)  # the engine task's `replied`, from the engine thread
    def add_model_reply(self, reply: str) -> int:
        """Parse what the model wrote; whatever is not a question–answer pair is dropped."""
        found = parse_qa_pairs(reply)
        added = self.table_model.add_pairs(found)
        if not found:
            self.status.setText(NOTHING_PARSED)
            self.status.setToolTip(plain_tooltip(reply[:2000]))
        else:
            self.status.setText(f"The model wrote {len(found)} questions; {added} were new. "
                                "Check its answers against the article before a run.")  # fmt: skip
        return added

    def import_pairs(self, path: Path) -> int:
        try:
            pairs = read_pairs(path)
        except (QAFileError, OSError) as exc:
            self.status.setText(f"Could not import {path.name}: {exc}")
            return 0
        except Exception as exc:  # a file we did not foresee: say so, never stay silent
            self.status.setText(f"Could not import {path.name}: it could not be read "
                                f"({type(exc).__name__}); is it a question file?")  # fmt: skip
            return 0
        added = self.table_model.add_pairs(pairs)
        self.status.setText(f"Imported {added} questions from {path.name}.")
        return added

    def export_pairs(self, path: Path) -> bool:
        try:
            write_pairs(path, self.table_model.complete_pairs())
        except (OSError, QAFileError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.status.setText(f"Could not save {path.name}: {reason}")
            return False
        self.status.setText(
            f"Saved {len(self.table_model.complete_pairs())} questions to {path.name}."
        )
        return True

    def set_pairs(self, pairs: list[QAPair]) -> None:
        self.table_model.set_pairs(pairs)

    @Slot()
    def _add_blank(self) -> None:
        row = self.table_model.add_blank()
        self.table.edit(self.table_model.index(row, 0))

    @Slot()
    def _delete_selected(self) -> None:
        self.table_model.remove_rows([i.row() for i in self.table.selectionModel().selectedRows()])

    @Slot()
    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import questions", str(documents_dir()), "Questions (*.jsonl *.csv);;All (*)"
        )
        if path:
            self.import_pairs(Path(path))

    @Slot()
    def _choose_export(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(
            self,
            "Export questions",
            suggested("questions.jsonl"),
            "JSON lines (*.jsonl);;CSV (*.csv)",
        )
        if path:
            target = Path(path)
            if target.suffix.lower() not in (".jsonl", ".csv"):  # the filter says which
                target = target.with_suffix(".csv" if "csv" in chosen else ".jsonl")
            self.export_pairs(target)


def _label(article: Article) -> str:
    return f"{article.title} (invented)" if article.invented else article.title

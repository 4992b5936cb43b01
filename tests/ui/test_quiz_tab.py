"""The Quiz tab on a scripted model whose answers are known: article → questions → run →
verdicts → charts → export, class mode, stop and resume, runs reopened."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.chat.generation import LoadSettings
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.quiz_store import QuizStore

PAIRS = [
    QAPair("In what year was the Eiffel Tower finished?", "1889", "manual"),
    QAPair("What is the capital of Velmora?", "Osk", "manual"),
    QAPair("Who led the Halvard Deep expedition?", "Ines Marrow", "manual"),
]
# First match wins: open-book prompts (they quote the question after "Question: ") first.
REPLIES = [
    ("Question: In what year", "1889"),
    ("Question: What is the capital of Velmora", "Osk"),
    ("Question: Who led", "Ines Marrow"),
    ("In what year", "1889"),
    ("capital of Velmora", "I don't know."),
    ("Who led", "Captain Nemo"),
]


@pytest.fixture
def make_quiz(
    qtbot: Any, make_engine: Any, tiny_gguf: Path, fresh_home: Path
) -> Iterator[Callable[..., Any]]:
    from desktop.ui.quiz.quiz_tab import QuizTab

    tabs: list[QuizTab] = []

    def make(
        load: bool = True, ask_as: str = "instruct", model: Path | None = None, **script: Any
    ) -> QuizTab:
        """`ask_as`: these tests script replies by the chat prompt's wording ("Question: "
        only in open book); base-model prompts have tests of their own."""
        script.setdefault("replies_by_prompt", REPLIES)
        engine = make_engine(**script)
        if load:  # waitUntil, not waitSignal: the signal comes from the engine's thread
            path = str(model or tiny_gguf)
            engine.load_requested.emit(path, LoadSettings(context_size=2048))
            qtbot.waitUntil(lambda: engine.loaded_model is not None, timeout=10_000)
        tab = QuizTab(engine, QuizStore(fresh_home / "quiz.sqlite3"))
        tab.settings_panel.ask_as.setCurrentIndex(tab.settings_panel.ask_as.findData(ask_as))
        qtbot.addWidget(tab)
        tab.resize(1280, 800)
        tab.show()
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()


def run_to_end(qtbot: Any, tab: Any) -> None:
    tab.run_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=20_000)


def test_run_gives_verdicts_charts_and_training_set(
    qtbot: Any, make_quiz: Any, tmp_path: Path
) -> None:
    tab = make_quiz()
    tab.questions.set_pairs(PAIRS)
    tab.settings_panel.samples.setValue(2)
    run_to_end(qtbot, tab)
    assert tab.status.text() == "Done."
    summary = tab.summary
    # "Captain Nemo" twice, said with confidence (its tokens at 1.0 and 0.5): made up
    assert [q.verdict for q in summary.questions] == ["knows", "doesn't know", "hallucinates"]
    assert (summary.closed_accuracy, summary.open_accuracy) == (pytest.approx(1 / 3), 1.0)
    assert "33%" in tab.results.summary_label.text() and "+67%" in tab.results.summary_label.text()
    grades = [(a.mode, a.grade) for a in tab.answers if a.question_index == 1]
    assert grades == [("closed", "NOT_ATTEMPTED")] * 2 + [("open", "CORRECT")] * 2
    # the scripted model gives token k probability 1/(1 + k % 4): "1889" is one token
    assert summary.questions[0].closed.confidence == 1.0
    assert tab.results.charts.shown["closed"] == [1.0, 0.0, 0.0]
    assert tab.results.charts.shown["open"] == [1.0, 1.0, 1.0]
    # every answer is in the database, and the run is listed
    assert len(tab.store.answers(tab.run.id)) == 12
    assert [r.run.status for r in tab.runs.model.records] == ["done"]
    # the selected question's answers are shown with their grades
    tab.results.table.selectRow(2)
    assert "Captain Nemo" in tab.results.answers_view.toPlainText()
    out = tmp_path / "sft.jsonl"
    tab.results.refusal.setText("Sorry, I don't know.")
    assert tab.results.export_training_set(out) == 3
    replies = [json.loads(line)["messages"][1]["content"] for line in out.read_text().splitlines()]
    assert replies == ["1889", "Sorry, I don't know.", "Sorry, I don't know."]


def test_class_mode_keeps_score(qtbot: Any, make_quiz: Any) -> None:
    tab = make_quiz()
    tab.questions.set_pairs(PAIRS)
    tab.settings_panel.samples.setValue(1)
    tab.settings_panel.open_book.setChecked(False)
    run_to_end(qtbot, tab)
    mode = tab.class_mode
    assert mode.question.text() == PAIRS[0].question and mode.details.toPlainText() == ""
    assert mode.reveal.isEnabled()
    mode.bet_knows.click()  # right: it knows
    assert "knows it" in mode.verdict.text() and "1889" in mode.details.toPlainText()
    assert not mode.reveal.isEnabled()  # the bet revealed it: nothing left to reveal
    mode.next.click()
    mode.bet_knows.click()  # wrong: it doesn't
    mode.next.click()
    mode.bet_not.click()  # wrong: "Captain Nemo", said with confidence, is made up
    assert "makes something up" in mode.verdict.text()
    assert mode.class_score() == (1, 3) and mode.score.text() == "Class: 1 of 3 right"
    assert not mode.next.isEnabled()
    mode.go(0)
    assert not mode.bet_knows.isEnabled()  # one bet per question
    mode.restart()
    mode.reveal.click()  # revealed first: no betting on it afterwards
    assert not mode.bet_knows.isEnabled() and "1889" in mode.details.toPlainText()
    mode.place_bet("knows")
    assert mode.class_score() == (0, 0)


def test_stop_then_resume_asks_only_what_is_missing(qtbot: Any, make_quiz: Any) -> None:
    tab = make_quiz(token_delay=0.05)
    tab.questions.set_pairs(PAIRS)
    tab.settings_panel.samples.setValue(2)
    tab.run_button.click()
    qtbot.waitUntil(lambda: len(tab.answers) >= 2, timeout=10_000)
    tab.stop_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=10_000)
    assert tab.status.text() == "Stopped."
    stopped = len(tab.answers)
    assert 2 <= stopped < 12 and tab.store.get(tab.run.id).status == "stopped"
    tab.runs.select_run(tab.run.id)
    assert tab.runs.resume_button.isEnabled()
    tab.runs.resume_button.click()
    assert tab.runs.selected().run.status == "running"  # the list follows the run
    qtbot.waitUntil(lambda: not tab.busy, timeout=20_000)
    keys = [a.key for a in tab.answers]  # what the resumed run was told, plus the stored
    assert len(keys) == len(set(keys)) == 12  # nothing asked twice
    assert len(tab.store.answers(tab.run.id)) == 12
    assert tab.store.get(tab.run.id).status == "done"


def test_model_written_questions_are_parsed_into_the_table(qtbot: Any, make_quiz: Any) -> None:
    reply = "Sure! Here are questions:\n1. Q: When was it built?\nA: 1889\n2. Q: How tall?\n"
    tab = make_quiz(replies_by_prompt=[("Q:", reply)], replies=[reply])
    tab.questions.model_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=10_000)
    assert [(p.question, p.answer, p.source) for p in tab.questions.table_model.pairs] == [
        ("When was it built?", "1889", "model")
    ]


def test_rule_questions_then_a_run_on_a_bundled_article(qtbot: Any, make_quiz: Any) -> None:
    tab = make_quiz(replies=["I don't know"])
    assert tab.questions.article_text.toPlainText()  # a bundled article is shown at once
    assert tab.questions.make_rule_questions() > 0
    tab.settings_panel.samples.setValue(1)
    run_to_end(qtbot, tab)
    assert tab.summary.verdicts["doesn't know"] == len(tab.questions.table_model.pairs)


def test_without_a_model_nothing_runs(qtbot: Any, make_quiz: Any) -> None:
    tab = make_quiz(load=False)
    tab.questions.set_pairs(PAIRS)
    tab.run_button.click()
    assert not tab.busy and "Chat tab" in tab.status.text()
    assert tab.to_chat.isVisible() and tab.store.runs() == []


def test_reopened_run_shows_its_results(qtbot: Any, make_quiz: Any) -> None:
    tab = make_quiz()
    tab.questions.set_pairs(PAIRS)
    tab.settings_panel.samples.setValue(1)
    run_to_end(qtbot, tab)
    run_id, before = tab.run.id, tab.summary
    tab.questions.set_pairs([])
    tab.open_run(run_id)
    assert tab.questions.table_model.pairs == PAIRS
    assert [q.verdict for q in tab.summary.questions] == [q.verdict for q in before.questions]


def test_pairs_import_export_edit_and_articles(
    qtbot: Any, make_quiz: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = make_quiz(load=False)
    page = tab.questions
    page.set_pairs(PAIRS[:2])
    assert page.table_model.setData(page.table_model.index(0, 1), " 1890 ")
    assert page.table_model.pairs[0] == QAPair(PAIRS[0].question, "1890", "manual")
    assert page.export_pairs(tmp_path / "q.csv")
    page.set_pairs([])
    assert page.import_pairs(tmp_path / "q.csv") == 2
    assert page.import_pairs(tmp_path / "q.csv") == 0  # same questions are not added twice
    (tmp_path / "bad.jsonl").write_text('{"question": "x?", "answer": "y"}\nnot json\n')
    assert page.import_pairs(tmp_path / "bad.jsonl") == 0 and "line 2" in page.status.text()
    html = tmp_path / "page.html"
    html.write_text("<html><title>T</title><body><h1>Ostrea</h1><p>Ostrea has 4 moons.</p>"
                    "<script>var x = 1;</script></body></html>")  # fmt: skip
    assert page.open_article(html)
    assert page.article() == ("Ostrea", "Ostrea has 4 moons.")
    assert not page.open_article(tmp_path / "missing.md") and "missing.md" in page.status.text()
    assert page.article()[0] == "Ostrea"  # a failed open keeps the article shown


def test_a_deleted_run_asks_first(
    qtbot: Any, make_quiz: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    tab = make_quiz()
    tab.questions.set_pairs(PAIRS[:1])
    tab.settings_panel.samples.setValue(1)
    run_to_end(qtbot, tab)
    tab.runs.select_run(tab.run.id)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    tab.runs.delete_button.click()
    assert len(tab.store.runs()) == 1
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    tab.runs.delete_button.click()
    assert tab.store.runs() == [] and tab.runs.model.records == []


def test_chat_waits_while_a_quiz_has_the_model(
    qtbot: Any, make_engine: Any, tiny_gguf: Path, store: Any
) -> None:
    from desktop.ui.main_window import MainWindow

    engine = make_engine(replies_by_prompt=REPLIES, token_delay=0.02)
    window = MainWindow(engine=engine, store=store)
    qtbot.addWidget(window)
    chat = window.chat_tab
    chat.load_model(str(tiny_gguf))
    qtbot.waitUntil(lambda: chat.model is not None, timeout=10_000)
    chat.send("first")  # a conversation to regenerate or edit later
    qtbot.waitUntil(lambda: not chat.busy, timeout=10_000)
    stored = chat.store.messages(chat.conversation_id)
    assert len(stored) == 2
    quiz = window.quiz_tab
    assert quiz.model_label.text() == tiny_gguf.name
    quiz.questions.set_pairs(PAIRS)
    quiz.run_button.click()
    assert quiz.busy and not chat.model_bar.isEnabled()
    chat.send("hello?")
    assert not chat.busy and "Quiz tab" in chat.status.text()
    chat.regenerate(stored[1].id, confirm=False)  # nothing else gets through either
    chat.edit_message(stored[0].id, "changed")
    assert not chat.busy and chat.store.messages(chat.conversation_id) == stored
    chat.stop()  # Stop (or Escape) in the Chat tab does not stop the quiz
    qtbot.waitUntil(lambda: not quiz.busy, timeout=20_000)
    assert quiz.status.text() == "Done." and len(quiz.answers) == 18  # 3 questions, K=3, 2 modes
    assert chat.model_bar.isEnabled() and window.engine.holder == ""
    chat.send("hello again")
    qtbot.waitUntil(lambda: chat.busy, timeout=5_000)
    window.close()


def test_the_whole_loop_article_file_to_training_set(
    qtbot: Any, make_quiz: Any, tmp_path: Path
) -> None:
    """Open an article → the model writes the pairs → run → verdicts → export."""
    article = tmp_path / "ostrea.md"
    article.write_text("# Ostrea\n\nOstrea was founded in **1602**. Its mayor is Lena Varo.\n")
    written = (
        "Here you go!\n\nQ: When was Ostrea founded?\nA: 1602.\n\n"
        "**Q:** Who is the mayor of Ostrea?\n**A:** Lena Varo\n\nQ: Unanswered?\n"
    )
    tab = make_quiz(replies_by_prompt=[
        ("Write 8 questions", written),
        ("Question: When was Ostrea", "1602"),
        ("Question: Who is the mayor", "Lena Varo"),
        ("When was Ostrea founded", "It was founded in 1602."),
        ("Who is the mayor", "I'm not sure."),
    ])  # fmt: skip
    assert tab.questions.open_article(article)
    tab.questions.model_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=10_000)
    assert [(p.question, p.answer) for p in tab.questions.table_model.pairs] == [
        ("When was Ostrea founded?", "1602"),
        ("Who is the mayor of Ostrea?", "Lena Varo"),
    ]
    tab.settings_panel.samples.setValue(2)
    run_to_end(qtbot, tab)
    assert [q.verdict for q in tab.summary.questions] == ["knows", "doesn't know"]
    assert tab.summary.open_accuracy == 1.0 and tab.run.article_title == "Ostrea"
    out = tmp_path / "sft.jsonl"
    tab.results.refusal.setText("I don't know that.")
    assert tab.results.export_training_set(out) == 2
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"messages": [{"role": "user", "content": "When was Ostrea founded?"},
                      {"role": "assistant", "content": "1602"}]},
        {"messages": [{"role": "user", "content": "Who is the mayor of Ostrea?"},
                      {"role": "assistant", "content": "I don't know that."}]},
    ]  # fmt: skip


def test_closing_mid_run_leaves_it_resumable(qtbot: Any, make_quiz: Any, fresh_home: Path) -> None:
    tab = make_quiz(token_delay=0.05)
    tab.questions.set_pairs(PAIRS)
    tab.run_button.click()
    qtbot.waitUntil(lambda: bool(tab.answers), timeout=10_000)
    run_id = tab.run.id
    tab.shutdown()  # what closing the window does
    store = QuizStore(fresh_home / "quiz.sqlite3")
    assert store.get(run_id).status == "stopped" and store.answers(run_id)
    store.close()


def test_settings_titles_and_a_bad_export(qtbot: Any, make_quiz: Any, tmp_path: Path) -> None:
    tab = make_quiz()
    tab.questions.set_pairs(PAIRS[:1])
    tab.settings_panel.samples.setValue(5)
    tab.settings_panel.open_book.setChecked(False)
    run_to_end(qtbot, tab)
    again = make_quiz(load=False)  # the next start remembers them
    assert (
        again.settings_panel.samples.value() == 5 and not again.settings_panel.open_book.isChecked()
    )
    page = again.questions
    title, _ = page.article()
    page.article_text.appendPlainText("My own note.")
    assert page.article()[0] == f"{title} (edited)"
    assert not page.export_pairs(tmp_path / "questions.txt")  # neither .jsonl nor .csv
    assert "questions.txt" in page.status.text()


def test_runs_compared_side_by_side(qtbot: Any, make_quiz: Any) -> None:
    from PySide6.QtCore import QItemSelectionModel

    tab = make_quiz()
    tab.settings_panel.samples.setValue(1)
    tab.settings_panel.open_book.setChecked(False)
    tab.questions.set_pairs(PAIRS)
    run_to_end(qtbot, tab)
    tab.questions.set_pairs(PAIRS[:2])  # a second run with fewer questions
    run_to_end(qtbot, tab)
    page = tab.runs
    assert not page.compare_button.isEnabled()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in range(2):
        page.table.selectionModel().select(page.model.index(row, 0), flags)
    assert page.compare_button.isEnabled()
    page.compare_button.click()
    table = page.comparison.model
    cells = [[table.data(table.index(r, c)) for c in range(4)] for r in range(table.rowCount())]
    newest, _ = (r.run.id for r in page.model.records)
    assert table.columns[2].title.startswith(f"#{newest} ")
    assert cells == [
        [PAIRS[0].question, "1889", "knows (100%)", "knows (100%)"],
        [PAIRS[1].question, "Osk", "doesn't know (0%)", "doesn't know (0%)"],
        [PAIRS[2].question, "Ines Marrow", "–", "hallucinates (0%)"],
    ]


def test_questions_belong_to_their_article(qtbot: Any, make_quiz: Any) -> None:
    tab = make_quiz()
    page = tab.questions
    apollo = next(a for a in page.articles if a.title == "Apollo 11")
    velmora = next(a for a in page.articles if "Velmora" in a.title)
    page.show_article(apollo)
    made = page.make_rule_questions()
    assert made > 0 and len(page.table_model.pairs) == made
    page.show_article(velmora)  # another article: its own (no) questions, not Apollo's
    assert page.table_model.pairs == []
    page.make_rule_questions()
    assert all("Apollo" not in p.question for p in page.table_model.pairs)
    page.show_article(apollo)  # back: Apollo's questions again
    assert len(page.table_model.pairs) == made and all(
        "Apollo" in p.question for p in page.table_model.pairs
    )


def test_the_article_and_questions_come_back_after_a_restart(qtbot: Any, make_quiz: Any) -> None:
    first = make_quiz()
    curie = next(a for a in first.questions.articles if a.title == "Marie Curie")
    first.questions.show_article(curie)
    first.questions.make_rule_questions()
    before = list(first.questions.table_model.pairs)
    first.shutdown()  # the app closes
    second = make_quiz()
    assert second.questions.article() == ("Marie Curie", curie.text.strip())
    assert second.questions.table_model.pairs == before
    assert second.questions.article_picker.currentText().startswith("Marie Curie")
    assert second.progress.value() in (-1, 0)  # no run under way: no half-full bar


STEM = "Apollo 11 was launched from Kennedy Space Center in Florida on"


def test_a_base_model_continues_sentences_and_each_answer_shows_its_prompt(
    qtbot: Any, make_quiz: Any, tiny_base_gguf: Path
) -> None:
    from PySide6.QtCore import Qt, QUrl

    reply = " 16 July 1969. It was\nQuestion: more"
    tab = make_quiz(ask_as="auto", model=tiny_base_gguf, replies_by_prompt=[(STEM, reply)])
    assert "Asked as a base model (its name says “base”)" in tab.settings_panel.asked_as.text()
    pair = QAPair("About Apollo 11: when was it launched?", "16 July 1969", "rules", stem=STEM)
    tab.questions.set_pairs([pair])
    table = tab.questions.table_model  # the question's tooltip says what a base model continues
    tip = table.data(table.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert f"A base model continues: “{STEM}…”" in tip
    tab.settings_panel.samples.setValue(2)
    run_to_end(qtbot, tab)
    assert tab.run.settings.asked_as == "base" and not tab.run.settings.may_refuse
    assert [a.text for a in tab.answers] == ["16 July 1969."] * 4  # the first sentence
    assert tab.summary.questions[0].verdict == "knows"
    assert "Asked as a base model" in tab.results.asking_label.text()
    tab.results.table.selectRow(0)
    html = tab.results.answers_view.toHtml()
    assert "prompt:0:closed" in html and "prompt:0:open" in html
    assert "continue the article" in tab.results.answers_view.toPlainText()
    tab.results.answers_view.anchorClicked.emit(QUrl("prompt:0:closed"))  # one click
    view = tab.results.prompt_view
    assert view is not None and view.isVisible()
    assert view.text.toPlainText() == STEM  # exactly what the model read
    assert "continue the article's sentence" in view.about.text()
    assert "'\\n'" in view.about.text()  # where the answer was cut off
    tab.results.answers_view.anchorClicked.emit(QUrl("prompt:0:open"))
    assert tab.results.prompt_view.text.toPlainText() == f"{tab.run.article_text}\n\n{STEM}"
    assert "saw the whole article" in tab.results.prompt_view.about.text()
    # the run, reopened later, still shows them; the runs list says how it asked
    run_id = tab.run.id
    tab.questions.set_pairs([])
    tab.open_run(run_id)
    assert tab.results.show_prompt(0, "closed") is not None
    assert tab.runs.model.data(tab.runs.model.index(0, 5)) == "base"


def test_how_the_model_is_asked_is_a_setting_kept_with_the_run(
    qtbot: Any, make_quiz: Any, tiny_base_gguf: Path
) -> None:
    tab = make_quiz(ask_as="instruct", model=tiny_base_gguf)
    assert (
        "Asked as an instruct model (chosen in the settings)" in tab.settings_panel.asked_as.text()
    )
    tab.settings_panel.may_refuse.setChecked(True)
    tab.questions.set_pairs(PAIRS[:1])
    tab.settings_panel.samples.setValue(1)
    tab.settings_panel.open_book.setChecked(False)
    run_to_end(qtbot, tab)
    assert (tab.run.settings.asked_as, tab.run.settings.may_refuse) == ("instruct", True)
    (prompt,) = tab.store.prompts(tab.run.id).values()
    assert prompt.form == "chat" and "I don't know" in prompt.text
    again = make_quiz(load=False)  # the next start remembers the choice
    assert again.settings_panel.ask_as.currentData() == "instruct"
    assert again.settings_panel.may_refuse.isChecked()


def test_a_class_bets_that_the_model_makes_something_up(qtbot: Any, make_quiz: Any) -> None:
    tab = make_quiz()
    tab.questions.set_pairs(PAIRS)
    tab.settings_panel.samples.setValue(1)
    tab.settings_panel.open_book.setChecked(False)
    run_to_end(qtbot, tab)
    mode = tab.class_mode
    mode.go(2)  # "Captain Nemo", said with confidence
    mode.bet_made_up.click()
    assert "the class was right" in mode.verdict.text() and mode.class_score() == (1, 1)
    mode.go(1)  # "I don't know."
    mode.bet_made_up.click()
    assert "the class was wrong" in mode.verdict.text() and mode.class_score() == (1, 2)


def test_the_charts_say_what_their_marks_mean(qtbot: Any, make_quiz: Any) -> None:
    from desktop.ui.quiz.quiz_charts import VERDICT_COLOURS

    tab = make_quiz()
    tab.questions.set_pairs(PAIRS)
    tab.settings_panel.samples.setValue(2)
    run_to_end(qtbot, tab)
    charts = tab.results.charts
    verdicts = [q.verdict for q in tab.summary.questions]
    assert charts.shown["question_colours"] == [VERDICT_COLOURS[v] for v in verdicts]
    assert charts.books_plot.getPlotItem().legend is None  # nothing drawn over the bars
    key = charts.calibration_key.text()
    assert all(v in key for v in VERDICT_COLOURS) and "grouped by confidence" in key
    assert "closed book" in charts.books_key.text() and "open book" in charts.books_key.text()


def press_key(widget: Any, key: Any) -> None:
    """What pressing `key` does (offscreen windows get no key focus, so no key events)."""
    from PySide6.QtGui import QKeySequence, QShortcut

    wanted = QKeySequence(key)
    (shortcut,) = [s for s in widget.findChildren(QShortcut) if s.key() == wanted]
    shortcut.activated.emit()


def test_class_mode_on_the_whole_screen_played_with_keys(qtbot: Any, make_quiz: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabBar

    tab = make_quiz()
    tab.questions.set_pairs(PAIRS)
    tab.settings_panel.samples.setValue(1)
    tab.settings_panel.open_book.setChecked(False)
    run_to_end(qtbot, tab)
    tab.show()
    mode = tab.class_mode
    index = tab.pages.indexOf(mode)
    size_in_tab = mode.question.font().pointSizeF()
    press_key(mode, Qt.Key.Key_F)
    screen = mode.window()
    assert screen is not tab.window() and screen.isFullScreen()
    assert screen.findChildren(QTabBar) == []  # no tab bar, no side panel: the page alone
    assert tab.pages.indexOf(mode) == -1 and "Esc" in tab.pages.widget(index).text()
    assert mode.question.font().pointSizeF() > size_in_tab  # larger type for the room
    press_key(mode, Qt.Key.Key_K)  # bet: it knows (it does)
    assert "the class was right" in mode.verdict.text()
    press_key(mode, Qt.Key.Key_N)
    assert mode.position == 1 and mode.verdict.text() == ""
    press_key(mode, Qt.Key.Key_Space)  # reveal without a bet
    assert "doesn't know it" in mode.verdict.text() and mode.class_score() == (1, 1)
    press_key(mode, Qt.Key.Key_P)
    assert mode.position == 0
    press_key(screen, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: tab.pages.indexOf(mode) == index, timeout=5_000)
    assert mode.window() is tab.window() and mode.full is None
    assert tab.pages.count() == 4 and mode.question.font().pointSizeF() == size_in_tab
    assert mode.full_screen.text() == "Full screen (F)"


def test_chat_with_the_article_opens_the_open_book_as_a_conversation(
    qtbot: Any, make_engine: Any, tiny_gguf: Path, store: Any
) -> None:
    """Closed vs open book is the measured version of "provide context": one click takes
    the run's article to the Chat tab, attached to a new conversation, in the next prompt."""
    from desktop.ui.main_window import MainWindow

    from_article = ("in 1889.", "From the article: Ines Marrow.")  # only an open book says it
    engine = make_engine(replies_by_prompt=[from_article, *REPLIES])
    window = MainWindow(engine=engine, store=store)
    qtbot.addWidget(window)
    chat = window.chat_tab
    chat.load_model(str(tiny_gguf))
    qtbot.waitUntil(lambda: chat.model is not None, timeout=10_000)
    before = chat.conversation_id
    quiz = window.quiz_tab
    article = "Velmora\n\nThe Halvard Deep expedition was led by Ines Marrow in 1889."
    quiz.questions.show_text("Velmora", article)
    quiz.questions.set_pairs(PAIRS)
    assert not quiz.results.article_chat_button.isEnabled()  # no run yet
    quiz.run_button.click()
    qtbot.waitUntil(lambda: not quiz.busy, timeout=20_000)
    assert quiz.results.article_chat_button.isEnabled()
    quiz.results.article_chat_button.click()
    assert window.tabs.currentWidget() is chat
    assert chat.conversation_id != before
    assert chat.store.get_conversation(chat.conversation_id).title == "Open book: Velmora"
    [document] = chat.attachments.documents
    assert document.title == "Velmora" and "Ines Marrow in 1889" in document.text
    assert chat.composer.chips.isVisibleTo(chat) and chat.composer.chips.chips
    chat.send("Who led the Halvard Deep expedition?")
    qtbot.waitUntil(lambda: not chat.busy, timeout=10_000)
    reply = chat.store.messages(chat.conversation_id)[-1]
    assert reply.content == "From the article: Ines Marrow."  # the book was open
    assert reply.stats and "Ines Marrow in 1889" in reply.stats["prompt"]["text"]
    window.close()

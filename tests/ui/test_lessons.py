"""Lessons: the talk's steps from files a teacher can edit; each step opens its tab and
fills its example; Space and the arrows go on and back; where a lesson was is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.core.lessons import MAX_STEPS, TABS, LessonError, load_lessons, parse_lesson
from desktop.core.resources import resources_dir


def test_the_bundled_lessons_cover_the_talk_and_stay_short() -> None:
    lessons, problems = load_lessons(resources_dir() / "lessons")
    assert problems == [] and len(lessons) >= 3
    titles = " ".join(s.title.lower() for lesson in lessons for s in lesson.steps)
    for topic in ("token", "loss", "memoris", "base model", "knows nothing",
                  "hallucination", "give it the text", "code", "post-training",
                  "reinforcement"):  # fmt: skip
        assert topic in titles, topic
    for lesson in lessons:
        assert 1 <= len(lesson.steps) <= MAX_STEPS
        assert all(step.tab in TABS and step.text for step in lesson.steps)


def test_a_broken_lesson_file_is_one_sentence_and_hides_no_other(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Fine\n\n## Step: one\ntab: chat\nLook.\n")
    (tmp_path / "b.md").write_text("# Broken\n\n## Step: one\ntab: kitchen\nLook.\n")
    lessons, problems = load_lessons(tmp_path)
    assert [lesson.key for lesson in lessons] == ["a"]
    assert len(problems) == 1 and "b, line" in problems[0] and "'tab:'" in problems[0]
    with pytest.raises(LessonError, match="at most 10"):
        parse_lesson("long", "# Long\n" + "## Step: s\ntab: chat\nx\n" * 11)


def test_steps_open_their_tab_fill_the_example_and_are_remembered(
    qtbot: Any, make_engine: Any, store: Any, fresh_home: Path
) -> None:
    from desktop.core.storage.conversations import ConversationStore
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.show()
    window.toggle_lessons()
    panel = window.lessons
    assert panel is not None and panel.isVisible()
    panel.picker.setCurrentIndex(0)  # from text to tokens
    panel.show_step(0)
    assert window.tabs.currentWidget() is window.train_page
    panel.forward()  # the raspberry
    assert window.tabs.currentWidget() is window.tokens_tab
    assert "raspberry" in window.tokens_tab.text_page.editor.toPlainText()
    panel.forward()
    panel.back()
    assert panel.index == 1 and "raspberry" in panel.text.toPlainText() + panel.title.text()
    panel.picker.setCurrentIndex(1)  # training: "its *parameters*" is Markdown, shown as such
    panel.show_step(0)
    assert "its parameters" in panel.text.toPlainText() and "*" not in panel.text.toPlainText()
    assert panel.text.document().find("parameters").charFormat().fontItalic()
    window.close()
    again = MainWindow(engine=make_engine(), store=ConversationStore(fresh_home / "b.sqlite3"))
    qtbot.addWidget(again)
    assert again.lessons is not None  # it was open at the end: it opens again
    assert again.lessons.index == 1  # where the lesson was left
    again.close()


def test_lessons_never_widen_a_projectors_window(qtbot: Any, make_engine: Any, store: Any) -> None:
    """At 1024 pixels there is no room for the widest tab and the panel side by side:
    the panel floats over the window's right edge instead of widening the window (it
    asked for 1,394 pixels); a wide window keeps it docked beside the tabs."""
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    window.visit_every_tab()
    window.lessons_action.trigger()
    panel = window.lessons
    assert panel is not None and panel.isVisible() and panel.isFloating()
    qtbot.wait(20)
    assert window.minimumSizeHint().width() <= 1024 and window.width() == 1024
    assert panel.geometry().right() <= window.geometry().right()  # over the window
    window.lessons_action.trigger()  # hidden
    window.resize(1800, 900)
    window.lessons_action.trigger()  # shown again: now there is room beside the tabs
    assert panel.isVisible() and not panel.isFloating()
    window.close()


def test_a_base_model_step_loads_the_built_in_base_model_in_its_mode(
    qtbot: Any, make_engine: Any, store: Any
) -> None:
    """Lesson 3 starts with "a base model continues text" in raw mode: with no model
    loaded, the step loads the built-in base model and puts the Chat tab in raw text."""
    from desktop.core.resources import STARTER
    from desktop.ui.main_window import MainWindow

    engine = make_engine()
    window = MainWindow(engine=engine, store=store)
    qtbot.addWidget(window)
    window.toggle_lessons()
    panel = window.lessons
    assert panel is not None
    titles = [panel.picker.itemText(i) for i in range(panel.picker.count())]
    panel.picker.setCurrentIndex(titles.index("From a base model to an assistant"))
    panel.show_step(0)
    assert window.tabs.currentWidget() is window.chat_tab
    qtbot.waitUntil(lambda: window.chat_tab.model is not None, timeout=20_000)
    assert window.chat_tab.model.path.endswith(STARTER)
    qtbot.waitUntil(lambda: window.chat_tab.prompt_mode == "raw", timeout=5_000)
    assert "Eiffel Tower" in window.chat_tab.composer.edit.toPlainText()
    window.close()

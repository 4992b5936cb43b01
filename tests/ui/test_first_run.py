"""A first launch, offline: the built-in model is one click away in the Quiz tab too, and
the Quiz tab stays where the person is (the Chat tab loads it, as for any model)."""

from __future__ import annotations

from typing import Any


def test_the_quiz_tab_loads_the_built_in_model_and_stays(
    qtbot: Any, make_engine: Any, store: Any
) -> None:
    from desktop.core.resources import bundled_for_chat
    from desktop.ui.main_window import MainWindow

    engine = make_engine()
    window = MainWindow(engine=engine, store=store)
    qtbot.addWidget(window)
    window.tabs.setCurrentWidget(window.quiz_page)
    quiz = window.quiz_tab
    assert quiz.panel.built_in.isVisibleTo(quiz) and quiz.panel.to_chat.isVisibleTo(quiz)
    quiz.panel.built_in.click()
    qtbot.waitUntil(lambda: engine.loaded_model is not None, timeout=20_000)
    assert engine.loaded_model.path == str(bundled_for_chat()[0])  # the post-trained one
    assert window.tabs.currentWidget() is window.quiz_page
    assert not quiz.panel.built_in.isVisibleTo(quiz)
    assert bundled_for_chat()[0].name in quiz.model_label.text()
    assert quiz.run_button.isEnabled()
    window.close()


def test_an_article_too_long_for_the_model_gets_the_quiz_tabs_own_advice(
    qtbot: Any, make_engine: Any, store: Any
) -> None:
    """A small context (the built-in model's is 1,024 tokens; the scripted model's here
    256) cannot hold Apollo 11 and the instructions: the Quiz tab says what to do here,
    not the Chat tab's advice (a new chat, the overflow setting)."""
    from desktop.ui.main_window import MainWindow

    engine = make_engine(context_size=256)
    window = MainWindow(engine=engine, store=store)
    qtbot.addWidget(window)
    window.tabs.setCurrentWidget(window.quiz_page)
    quiz = window.quiz_tab
    quiz.panel.built_in.click()
    qtbot.waitUntil(lambda: engine.loaded_model is not None, timeout=20_000)
    quiz.questions.model_button.click()
    qtbot.waitUntil(lambda: quiz.task is None and quiz.status.text().startswith("Failed"),
                    timeout=20_000)  # fmt: skip
    text = quiz.status.text()
    assert "cannot read the article to write questions" in text and "holds 256" in text, text
    assert "new chat" not in text and "overflow" not in text
    window.close()

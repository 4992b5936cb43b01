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

"""The Post-train tab with pytest-qt: pick a model and data, see the masked tokens, train,
pause, export, chat, compare; reopen a run; the Quiz and Chat tabs' hooks; "Quiz again"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.posttrain.mask_display import CONTEXT_TEXT, LEARNED_TEXT
from desktop.core.posttrain.posttrain_runs import PosttrainRuns
from tests.posttrain_fixtures import pretrained_tiny_gguf


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pretrained_tiny_gguf(tmp_path_factory.mktemp("pretrained"))


@pytest.fixture
def make_tab(qtbot: Any, fresh_home: Path) -> Iterator[Callable[..., Any]]:
    from desktop.ui.posttrain.posttrain_tab import PosttrainTab

    tabs: list[PosttrainTab] = []

    def make(models: list[Path]) -> PosttrainTab:
        tab = PosttrainTab(PosttrainRuns(fresh_home / "runs.sqlite3"))
        qtbot.addWidget(tab)
        tab.resize(1024, 660)
        tab.show()
        tab.set_library(models)
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()


def wait_for_preview(qtbot: Any, tab: Any) -> None:
    qtbot.waitUntil(lambda: tab.data_view.examples.count() > 0, timeout=30_000)


def test_pick_train_pause_export_chat_and_compare(
    qtbot: Any, make_tab: Any, pretrained: Path, tmp_path: Path
) -> None:
    tab = make_tab([pretrained])
    wait_for_preview(qtbot, tab)
    # the data, token by token: the user's turn greyed, the assistant's learned
    html = tab.data_view.tokens.toHtml()
    assert LEARNED_TEXT.lower() in html.lower() and CONTEXT_TEXT.lower() in html.lower()
    assert tab.data_view.examples.item(0).text().startswith("1. What is your name?")
    assert "held out" in tab.data_view.summary.text()
    assert "parameters" in tab.method.summary.text() and "LoRA" in tab.method.summary.text()
    assert "steps" in tab.method.summary.text()  # the cost is there before Start

    tab.method.method.setCurrentIndex(1)  # full fine-tuning: the tiny model learns fast
    tab.method.epochs.setValue(30)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.progress.plots.curve_data("train")[0].size > 3, timeout=30_000)
    tab.pause_button.click()
    assert tab.session.paused and tab.pause_button.text() == "Resume"
    qtbot.wait(300)  # the step under way ends; then nothing moves
    held = tab.progress.plots.curve_data("train")[0].size
    qtbot.wait(400)
    assert tab.progress.plots.curve_data("train")[0].size == held
    tab.pause_button.click()
    qtbot.waitUntil(lambda: not tab.session.running, timeout=90_000)
    assert tab.outcome is not None and not tab.outcome.stopped_early
    assert tab.progress.samples.count() > 0
    assert "Ada" in tab.progress.samples.item(0).text()  # held-out questions answered
    (record,) = tab.store.runs()
    assert record.status == "done" and record.step == record.steps > 0

    tab.export(tmp_path / "library")
    qtbot.waitUntil(lambda: tab.exported_path is not None, timeout=60_000)
    assert tab.exported_path.exists() and tab.exported_path.parent.name == "trained"
    with qtbot.waitSignal(tab.chat_requested, timeout=2_000) as chat:
        tab.chat_button.click()
    assert chat.args == [str(tab.exported_path)]

    tab.compare.prompt.setText("What is your name?")
    tab.compare.ask()
    qtbot.waitUntil(lambda: tab.compare.ask_button.isEnabled(), timeout=60_000)
    before, after = (r.toPlainText() for r in tab.compare.replies)
    assert "Ada" in after and "Ada" not in before, (before, after)


def test_an_earlier_run_reopens_with_its_curves_and_a_stopped_one_resumes(
    qtbot: Any, make_tab: Any, pretrained: Path
) -> None:
    tab = make_tab([pretrained])
    wait_for_preview(qtbot, tab)
    tab.method.epochs.setValue(40)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.progress.plots.curve_data("train")[0].size > 2, timeout=30_000)
    tab.stop_button.click()
    qtbot.waitUntil(lambda: not tab.session.running, timeout=30_000)
    assert tab.outcome is not None and tab.outcome.stopped_early
    stopped_at = tab.outcome.run.step
    (record,) = tab.store.runs()
    assert record.status == "stopped"

    tab.progress.clear()
    assert tab.open_run(record.id)
    assert tab.progress.plots.curve_data("train")[0].size == stopped_at
    assert tab.resume_run(record.id)
    qtbot.waitUntil(lambda: not tab.session.running, timeout=120_000)
    assert tab.outcome.run.done and tab.outcome.run.step > stopped_at
    steps = tab.progress.plots.curve_data("train")[0]
    assert steps[0] == 1 and steps[-1] == tab.outcome.run.step  # one curve, start to end


def test_a_model_the_trainer_cannot_take_is_named(
    qtbot: Any, make_tab: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 20)
    tab = make_tab([bad])
    qtbot.waitUntil(lambda: "⚠" in tab.facts_label.text(), timeout=10_000)
    assert not tab.start_button.isEnabled()


def test_the_quiz_and_chat_tabs_hand_their_data_over(
    qtbot: Any, make_engine: Any, store: Any, pretrained: Path
) -> None:
    from desktop.core.quiz.sft_export import QuizTrainingSet
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    examples = (
        {
            "messages": [
                {"role": "user", "content": "Where is Velmora?"},
                {"role": "assistant", "content": "I don't know."},
            ]
        },
    )
    window.posttrain_on(QuizTrainingSet(examples, 7, str(pretrained), "Velmora"))
    tab = window.posttrain_tab
    assert window.tabs.currentWidget() is window.posttrain_page
    source = tab.sources.source()
    assert source.quiz_run_id == 7 and len(source.conversations) == 1
    assert "Quiz run #7" in source.label and tab.sources.model_path() == pretrained

    conversation = store.create_conversation("Hello")
    store.add_message(conversation.id, "user", "What is your name?")
    store.add_message(conversation.id, "assistant", "I'm Ada.")
    window.chat_tab.sidebar.reload()
    window.chat_tab.sidebar.train_requested.emit(conversation.id)
    assert tab.sources.source().key == "chat"
    assert tab.sources.source().conversations[0].messages[-1].content == "I'm Ada."
    window.close()


def test_quiz_again_asks_the_same_questions_and_compares_the_runs(
    qtbot: Any, make_engine: Any, tiny_gguf: Path, fresh_home: Path, tmp_path: Path
) -> None:
    """The Quiz tab's side of "Quiz again": a new run of the old one's questions on the
    model the Chat tab loads, asked as an instruct model, then both runs compared."""
    import shutil

    from desktop.core.chat.generation import LoadSettings
    from desktop.core.quiz.qa import QAPair
    from desktop.core.quiz.quiz_store import QuizStore
    from desktop.core.quiz.settings import QuizSettings
    from desktop.ui.quiz.quiz_tab import QuizTab

    engine = make_engine(replies_by_prompt=[("Velmora", "I don't know.")])
    quiz_store = QuizStore(fresh_home / "quiz.sqlite3")
    pairs = [QAPair("What is the capital of Velmora?", "Osk", "manual")]
    old = quiz_store.add_run(str(tiny_gguf), "Velmora", "Velmora is an island.", pairs,
                             QuizSettings(samples=1, asked_as="base"))  # fmt: skip
    tab = QuizTab(engine, quiz_store)
    qtbot.addWidget(tab)
    tuned = tmp_path / "tuned.gguf"
    shutil.copy(tiny_gguf, tuned)
    tab.quiz_again(old, str(tuned))
    assert "Loading tuned.gguf" in tab.status.text()
    engine.load_requested.emit(str(tuned), LoadSettings(context_size=2048))
    qtbot.waitUntil(lambda: tab.runs.comparison.model.rowCount() == 1, timeout=20_000)
    runs = quiz_store.runs()
    assert len(runs) == 2 and runs[0].settings.asked_as == "instruct"
    assert (
        "tuned" in tab.runs.comparison.title.text()
        and f"#{old}" in tab.runs.comparison.title.text()
    )
    assert tab.pages.currentWidget() is tab.runs
    tab.shutdown()


def test_a_first_run_can_give_the_built_in_model_a_name(qtbot: Any, make_tab: Any) -> None:
    """An empty library still offers the starter model, after the library's own models,
    and its identity data is tokenized with its tokenizer, ready to Start."""
    from desktop.core.resources import bundled_models

    tab = make_tab([])
    starter = bundled_models()[0]
    assert tab.sources.model_path() == starter
    assert "(built in)" in tab.sources.model.currentText()
    wait_for_preview(qtbot, tab)
    assert tab.start_button.isEnabled() and tab.status.text().startswith("Ready")
    tab.set_library([Path("/library/other.gguf")])  # the library's models come first
    assert tab.sources.model.itemData(0) == "/library/other.gguf"
    assert tab.sources.model_path() == starter  # the one chosen stays chosen


def test_the_built_in_model_learns_its_name_with_the_tabs_defaults(
    qtbot: Any, make_tab: Any
) -> None:
    """A model of the Train tab's size gets every weight and ten passes by default: with
    LoRA and three, the built-in model ended at loss 4.85 and answered in gibberish. A
    person's own choice is kept when the model changes."""
    tab = make_tab([])
    wait_for_preview(qtbot, tab)
    qtbot.waitUntil(lambda: tab.facts is not None, timeout=10_000)
    assert tab.method.settings().method == "full" and tab.method.settings().epochs == 10
    tab.start_button.click()
    qtbot.waitUntil(lambda: not tab.session.running and tab.outcome is not None,
                    timeout=120_000)  # fmt: skip
    losses = tab.progress.plots.curve_data("train")[1]
    assert losses[-1] < 1.0, losses  # it learned the identity set (LoRA x3: about 4.8)
    assert tab.exported_path is None and tab.chat_button.isEnabled()  # one click, as Train's
    with qtbot.waitSignal(tab.chat_requested, timeout=60_000) as chat:
        tab.chat_button.click()  # exported first, then handed to the Chat tab
    assert tab.exported_path is not None and chat.args == [str(tab.exported_path)]
    assert tab.exported_path.stat().st_size > 0
    tab.method.method.setCurrentIndex(0)
    tab.method.method.activated.emit(0)  # what a person's pick sends
    tab.method.set_model(tab.facts)  # another model read: the pick stays
    assert tab.method.settings().method == "lora"

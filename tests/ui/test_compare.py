"""Compare, on the scripted backend (two tiny GGUFs) and the fake OpenAI server: both
replies with their figures, the models taking turns on the one engine (the loaded one
first), a vote stored as a preference pair, a tie, JSONL out and back in, a failed side
that keeps its partial reply and allows no vote, and the window opened from the Chat tab
with its conversation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.core.chat.generation import ChatMessage, LoadSettings
from desktop.core.remote.endpoint import remote_model, what_is_sent
from desktop.core.storage.preferences import PreferenceStore
from desktop.ui.compare.compare_run import HOLDER
from desktop.ui.compare.compare_source import CompareSource
from tests.fake_openai import Fault
from tests.ui.test_accessible_names import unnamed_controls

REPLIES = ["The capital of France is Paris.", "Paris, of course."]


@pytest.fixture
def make_compare(qtbot: Any, make_engine: Any, tmp_path: Path) -> Any:
    from desktop.ui.compare.compare_window import CompareWindow

    windows: list[Any] = []

    def make(paths: list[str], loaded: str = "", **script: Any) -> Any:
        engine = make_engine(**script)
        if loaded:
            engine.load_requested.emit(loaded, LoadSettings())
            qtbot.waitUntil(lambda: engine.loaded_model is not None, timeout=10_000)
        window = CompareWindow(engine, preferences=PreferenceStore(tmp_path / "prefs.sqlite3"))
        qtbot.addWidget(window)
        window.set_source(CompareSource([(Path(p).name, p) for p in paths], loaded_path=loaded))
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


def ask(qtbot: Any, window: Any, text: str = "What is the capital of France?") -> None:
    window.prompt.setPlainText(text)
    window.ask_button.click()
    assert window.busy and window.engine.holder == HOLDER  # the Chat and Quiz tabs wait
    qtbot.waitUntil(lambda: not window.busy, timeout=20_000)
    assert window.engine.holder == ""


def test_two_local_models_take_turns_and_a_vote_becomes_a_preference_pair(
    qtbot: Any, make_compare: Any, tiny_gguf: Path, tiny_base_gguf: Path, tmp_path: Path
) -> None:
    chat, base = str(tiny_gguf), str(tiny_base_gguf)
    window = make_compare([chat, base], loaded=chat, replies=REPLIES, load_seconds=0.2)
    a, b = window.columns["a"], window.columns["b"]
    assert (a.path, b.path) == (chat, base)  # A: the loaded model, B: another one
    assert window.minimumSizeHint().width() <= 1024 and window.height() <= 700
    assert unnamed_controls(window) == []
    ask(qtbot, window)
    assert "(A then B)" in window.status.text()
    assert (a.text, b.text) == (REPLIES[0], REPLIES[1])  # A answered first, then B loaded
    for column in (a, b):
        assert "first token" in column.figures.text() and "tokens/s" in column.figures.text()
    assert "Loaded in 0.2 s" in b.state.text() and "Loaded in" not in a.state.text()
    assert window.engine.loaded_model.path == base  # the last one stays loaded
    assert all(button.isEnabled() for button in window.vote_buttons.values())

    window.vote_buttons["b"].click()
    (pair,) = window.preferences.pairs()
    assert (pair.prompt, pair.chosen, pair.rejected) == (
        "What is the capital of France?", REPLIES[1], REPLIES[0]
    )  # fmt: skip
    assert (pair.chosen_model, pair.rejected_model, pair.tie, pair.source) == (
        base, chat, False, "compare"
    )  # fmt: skip
    assert not any(button.isEnabled() for button in window.vote_buttons.values())  # once
    assert "B (tiny-base.gguf) preferred" in window.vote_status.text()
    assert "1 preference pair stored" in window.pairs_label.text()

    ask(qtbot, window, "And of Italy?")  # B is loaded now: it goes first, nothing reloads
    assert "(B then A)" in window.status.text()
    assert (b.text, a.text) == (REPLIES[0], REPLIES[1])
    assert "Loaded in 0.2 s" in a.state.text() and "Loaded in" not in b.state.text()
    window.vote("tie")
    tie = window.preferences.pairs()[-1]
    assert tie.tie and (tie.chosen, tie.rejected) == (a.text, b.text)  # kept as shown

    out = tmp_path / "pairs.jsonl"
    window.export_pairs(out)
    assert "2 pairs written to pairs.jsonl" in window.vote_status.text()
    with PreferenceStore(tmp_path / "other.sqlite3") as other:
        assert other.import_jsonl(out) == (2, 0)
        keys = [p.content_key() for p in other.pairs()]
        assert keys == [p.content_key() for p in window.preferences.pairs()]
    window.import_pairs(out)  # the same pairs again: nothing twice
    assert "0 pairs imported (2 were there already)" in window.vote_status.text()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p"}\n')
    window.import_pairs(bad)
    assert 'Line 1: no "chosen"' in window.vote_status.text()
    assert "Nothing was imported" in window.vote_status.text()


def test_local_against_remote_with_what_is_sent_shown(
    qtbot: Any, make_compare: Any, tiny_gguf: Path, fake_openai: Any, memory_keyring: Any
) -> None:
    fake = fake_openai()
    remote = remote_model(fake.base_url, "fake-model").path
    window = make_compare([str(tiny_gguf), remote], loaded=str(tiny_gguf), replies=REPLIES)
    ask(qtbot, window)
    a, b = window.columns["a"], window.columns["b"]
    assert a.text == REPLIES[0] and b.text == "Hello, world."
    assert b.note.isVisibleTo(window) and b.note.text() == what_is_sent(fake.base_url)
    assert "tokens/s" in b.figures.text()
    window.vote("a")
    assert window.preferences.pairs()[0].rejected_model == remote


def test_a_failed_side_keeps_its_partial_reply_and_allows_no_vote(
    qtbot: Any, make_compare: Any, tiny_gguf: Path, fake_openai: Any, memory_keyring: Any
) -> None:
    fake = fake_openai()
    fake.fault = Fault(cut_after=2)
    remote = remote_model(fake.base_url, "fake-model").path
    window = make_compare([str(tiny_gguf), remote], loaded=str(tiny_gguf), replies=REPLIES)
    ask(qtbot, window)
    b = window.columns["b"]
    assert b.text == "Hello," and "was cut after 2 tokens" in b.state.text()
    assert not any(button.isEnabled() for button in window.vote_buttons.values())
    assert "A vote needs two replies" in window.status.text()
    missing = remote_model(fake.base_url, "gone").path  # a load that fails: said, A still asked
    window.set_source(CompareSource([("tiny", str(tiny_gguf)), ("gone", missing)]))
    window.columns["b"].model.setCurrentIndex(1)
    ask(qtbot, window)
    assert "does not list the model “gone”" in window.columns["b"].state.text()
    assert window.columns["a"].text in REPLIES  # A was loaded and asked all the same


def test_stop_ends_the_round_and_gives_the_model_back(
    qtbot: Any, make_compare: Any, tiny_gguf: Path, tiny_base_gguf: Path
) -> None:
    long_reply = " ".join(f"w{i}" for i in range(300))
    window = make_compare([str(tiny_gguf), str(tiny_base_gguf)], loaded=str(tiny_gguf),
                          replies=[long_reply], token_delay=0.01)  # fmt: skip
    window.prompt.setPlainText("Count")
    window.ask_button.click()
    a = window.columns["a"]
    qtbot.waitUntil(lambda: len(a.text.split()) >= 3, timeout=10_000)
    window.stop_button.click()
    qtbot.waitUntil(lambda: not window.busy, timeout=10_000)
    assert "Stopped" in a.state.text() and 3 <= len(a.text.split()) < 300
    assert window.columns["b"].text == ""  # B never started
    assert window.engine.holder == "" and window.engine.loaded_model.path == str(tiny_gguf)


def test_compare_opens_from_the_chat_tab_with_its_conversation(
    qtbot: Any, make_engine: Any, store: Any, tiny_gguf: Path, tiny_base_gguf: Path,
    fresh_home: Path,
) -> None:  # fmt: skip
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(replies=REPLIES, load_seconds=0.5), store=store)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    window.tabs.setCurrentWidget(window.chat_tab)
    assert window.minimumSizeHint().width() <= 1024  # the Compare button did not widen it
    chat = window.chat_tab
    chat.model_bar.add_and_select(str(tiny_base_gguf))
    chat.load_model(str(tiny_gguf))
    qtbot.waitUntil(lambda: chat.model_bar.progress.isVisible(), timeout=10_000)
    qtbot.wait(50)
    assert window.width() == 1024  # nor does the load's progress bar (it once did, for good)
    qtbot.waitUntil(lambda: chat.model is not None, timeout=10_000)
    with qtbot.waitSignal(chat.reply_finished, timeout=10_000):
        chat.composer.edit.setPlainText("Hello there")
        chat.composer.button.click()
    chat.composer.edit.setPlainText("What is the capital of France?")
    chat.model_bar.compare_button.click()
    compare = window.compare
    assert compare is not None and compare.isVisible()
    assert compare.prompt.toPlainText() == "What is the capital of France?"
    assert compare.use_history.isChecked() and "(2 messages" in compare.use_history.text()
    assert compare.columns["a"].path == str(tiny_gguf)
    assert compare.columns["b"].path == str(tiny_base_gguf)
    compare.ask_button.click()
    assert not chat.model_bar.isEnabled()  # the Chat tab waits for the round
    qtbot.waitUntil(lambda: not compare.busy, timeout=20_000)
    assert compare.messages == [
        ChatMessage("user", "Hello there"),
        ChatMessage("assistant", REPLIES[0]),
        ChatMessage("user", "What is the capital of France?"),
    ]
    assert chat.model_bar.isEnabled() and chat.model.path == str(tiny_base_gguf)  # it follows
    assert chat.model_bar.current_path() == str(tiny_base_gguf)  # and shows which it is
    compare.vote("a")
    (pair,) = compare.preferences.pairs()
    assert pair.context == tuple(compare.messages[:2])
    window.close()
    with PreferenceStore(fresh_home / "deepdive.sqlite3") as stored:  # the app's database
        assert stored.count("compare") == 1

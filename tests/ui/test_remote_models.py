"""Remote models in the app, against the fake OpenAI-compatible server on 127.0.0.1: a
server is added only after its what-is-sent sentence is accepted, its models are listed
off the GUI thread, a picked model is in the Chat tab's list and chats, the Quiz tab asks
it, and every failure - a refused key, an unknown model, a rate limit, a server down,
nothing listening, a cut stream, no keyring - is a sentence on screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from desktop.core.remote import keys
from desktop.core.remote.endpoint import remote_model, what_is_sent
from tests.fake_openai import Fault

OK = QDialogButtonBox.StandardButton.Ok


@pytest.fixture
def window(qtbot: Any, make_engine: Any, store: Any) -> Any:
    from desktop.ui.main_window import MainWindow

    w = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(w)
    w.resize(1024, 700)
    w.show()
    yield w
    w.close()


def model_ids(panel: Any) -> list[str]:
    items = [panel.model_list.item(i) for i in range(panel.model_list.count())]
    return [item.data(Qt.ItemDataRole.UserRole) for item in items]


def send(qtbot: Any, tab: Any, text: str) -> Any:
    with qtbot.waitSignal(tab.reply_finished, timeout=10_000) as done:
        tab.composer.edit.setPlainText(text)
        tab.composer.button.click()
    return done.args[0]


def load(qtbot: Any, tab: Any, path: str) -> None:
    """Load in the Chat tab and wait until it has loaded or said why not."""
    ended: list[object] = []
    tab.model_loader.ready.connect(ended.append)
    tab.model_loader.gone.connect(lambda: ended.append(None))
    tab.load_model(path)
    qtbot.waitUntil(lambda: bool(ended), timeout=10_000)


def test_the_sentence_comes_before_any_request_and_the_model_chats(
    qtbot: Any, window: Any, fake_openai: Any, memory_keyring: Any, fresh_home: Path
) -> None:
    fake = fake_openai(key="sk-good", models=("fake-model", "big-model"), context_length=8192)
    panel = window.models_tab.servers
    seen: dict[str, Any] = {}

    def fill_in() -> None:  # the modal dialog, as a person fills it in
        dialog = QApplication.activeModalWidget()
        dialog.preset.setCurrentIndex(dialog.preset.count() - 1)  # another server
        dialog.url.setText(fake.base_url)
        dialog.key.setText("sk-good")
        seen["sentence"] = dialog.disclosure.text()
        seen["ok before"] = dialog.buttons.button(OK).isEnabled()
        seen["requests"] = len(fake.requests)
        dialog.understood.setChecked(True)
        seen["ok after"] = dialog.buttons.button(OK).isEnabled()
        dialog.buttons.button(OK).click()

    QTimer.singleShot(0, fill_in)
    panel.add_button.click()
    assert seen["sentence"] == what_is_sent(fake.base_url)
    assert "sent to a server on this computer" in seen["sentence"]
    assert seen["requests"] == 0 and not seen["ok before"] and seen["ok after"]
    qtbot.waitUntil(lambda: fake.base_url in panel.listed, timeout=10_000)
    assert model_ids(panel) == ["big-model", "fake-model"]
    assert "2 models listed" in panel.status.text()
    assert fake.requests[0].headers["Authorization"] == "Bearer sk-good"
    assert memory_keyring.store[(keys.SERVICE, fake.base_url)] == "sk-good"  # the keyring...
    window.models_tab.servers.settings.sync()
    assert "sk-good" not in (fresh_home / "settings.ini").read_text()  # ...never the settings
    assert panel.disclosure.text() == what_is_sent(fake.base_url)  # said on the page too

    panel.select_model("fake-model")
    panel.chat_button.click()  # picks it, opens the Chat tab and loads it there
    chat = window.chat_tab
    assert window.tabs.currentWidget() is chat
    qtbot.waitUntil(lambda: chat.model is not None, timeout=10_000)
    path = remote_model(fake.base_url, "fake-model").path
    combo = chat.model_bar.combo
    assert combo.currentData() == path and combo.currentText().endswith("(remote)")
    assert chat.model.context_size == 8192  # as the server says
    assert what_is_sent(fake.base_url) in chat.model_bar.info.text()  # kept in view
    stats = send(qtbot, chat, "hi")
    assert stats.text == "Hello, world."
    assert "Hello, world." in chat.transcript.messages[-1].body.toPlainText()
    assert fake.bodies("/chat/completions")[-1]["messages"][-1] == {"role": "user", "content": "hi"}

    # picked models come back after a restart (settings), in the pickers
    from desktop.core.remote.servers import servers_from_json

    saved = servers_from_json(panel.settings.get("remote/servers"))
    assert [m.path for m in saved.remote_models()] == [path]
    panel.toggle_pick()  # unpicked: gone from the Chat tab's list
    assert combo.findData(path) == -1


def test_the_quiz_tab_asks_a_remote_model(
    qtbot: Any, make_engine: Any, fake_openai: Any, memory_keyring: Any, fresh_home: Path
) -> None:
    from desktop.core.chat.generation import LoadSettings
    from desktop.core.quiz.qa import QAPair
    from desktop.core.quiz.quiz_store import QuizStore
    from desktop.ui.quiz.quiz_tab import QuizTab

    fake = fake_openai()
    engine = make_engine()
    engine.load_requested.emit(remote_model(fake.base_url, "fake-model").path, LoadSettings())
    qtbot.waitUntil(lambda: engine.loaded_model is not None, timeout=10_000)
    tab = QuizTab(engine, QuizStore(fresh_home / "quiz.sqlite3"))
    qtbot.addWidget(tab)
    assert tab.model_label.text() == f"fake-model at 127.0.0.1:{fake.port}"
    tab.questions.set_pairs([QAPair("What is the capital of Velmora?", "Osk", "manual")])
    tab.settings_panel.samples.setValue(1)
    tab.run_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=20_000)
    assert tab.status.text() == "Done."
    assert {a.text for a in tab.answers} == {"Hello, world."}
    assert fake.bodies("completions")  # it was the server that answered
    assert tab.runs.model.records[0].run.model_name == f"fake-model at 127.0.0.1:{fake.port}"
    tab.shutdown()


def test_listing_errors_are_sentences_with_what_to_do(
    qtbot: Any, window: Any, fake_openai: Any, memory_keyring: Any
) -> None:
    fake = fake_openai(key="sk-good")
    panel = window.models_tab.servers
    panel.add_server("fake", fake.base_url, "sk-wrong")
    qtbot.waitUntil(lambda: "401" in panel.status.text(), timeout=10_000)
    assert "refused the API key (401)" in panel.status.text()
    assert "Invalid API key provided." in panel.status.text()  # the server's own words
    assert "Press “API key…” to paste a new one." in panel.status.text()
    panel.set_key("sk-good")
    qtbot.waitUntil(lambda: fake.base_url in panel.listed, timeout=10_000)
    assert memory_keyring.store[(keys.SERVICE, fake.base_url)] == "sk-good"
    fake.close()  # nothing listening any more
    panel.list_button.click()
    qtbot.waitUntil(lambda: "Nothing answered" in panel.status.text(), timeout=10_000)
    assert f"Nothing answered at 127.0.0.1:{fake.port}" in panel.status.text()
    assert "Is the server running?" in panel.status.text()
    assert panel.list_button.isEnabled()


def test_without_a_keyring_the_key_lasts_the_session_and_that_is_said(
    qtbot: Any, window: Any, fake_openai: Any, memory_keyring: Any
) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # memory_keyring's teardown puts the old one back
    fake = fake_openai(key="sk-good")
    panel = window.models_tab.servers
    panel.add_server("fake", fake.base_url, "sk-good")
    qtbot.waitUntil(lambda: fake.base_url in panel.listed, timeout=10_000)
    assert "There is no system keyring" in panel.status.text()
    assert "it is kept until the app closes" in panel.status.text()
    assert "1 model listed" in panel.status.text()  # the key worked all the same


def test_chat_errors_are_sentences_and_a_cut_reply_is_kept(
    qtbot: Any, make_chat: Any, fake_openai: Any, memory_keyring: Any
) -> None:
    fake = fake_openai(key="sk-good", models=("fake-model",))
    tab = make_chat(load=False)
    keys.save_key(fake.base_url, "sk-bad")
    load(qtbot, tab, remote_model(fake.base_url, "fake-model").path)
    assert "refused the API key (401)" in tab.model_bar.info.text()
    keys.save_key(fake.base_url, "sk-good")
    load(qtbot, tab, remote_model(fake.base_url, "gone").path)
    assert "does not list the model “gone”; it has fake-model" in tab.model_bar.info.text()
    load(qtbot, tab, remote_model(fake.base_url, "fake-model").path)
    assert tab.model is not None and tab.model.endpoint == fake.base_url

    def error_of_reply(fault: Fault) -> str:
        fake.fault = fault
        send(qtbot, tab, "hi")
        return tab.transcript.messages[-1].error_label.text()

    said = error_of_reply(Fault(status=429, headers={"Retry-After": "7"}))
    assert "is limiting requests (429): try again in 7 seconds." in said
    said = error_of_reply(Fault(status=503, body='{"error": {"message": "overloaded"}}'))
    assert "is unavailable (503)" in said and "overloaded" in said
    said = error_of_reply(Fault(cut_after=2))
    assert "was cut after 2 tokens" in said and "what came so far is kept" in said
    assert tab.transcript.messages[-1].body.toPlainText().strip() == "Hello,"
    stored = tab.store.messages(tab.conversation_id)[-1]
    assert (stored.status, stored.content) == ("error", "Hello,")
    said = error_of_reply(Fault(error_after=3))
    assert "reported an error after 3 tokens: “the model worker died”" in said
    assert tab.store.messages(tab.conversation_id)[-1].content == "Hello, world"
    fake.fault = Fault()
    assert send(qtbot, tab, "hi again").text == "Hello, world."  # and it goes on working

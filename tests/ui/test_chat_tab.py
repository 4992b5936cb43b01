"""The Chat tab end to end, on the scripted backend (the real process, pipe and thread)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from desktop.core.chat.base_prompt import USER_LABEL
from desktop.engine.scripted_backend import pieces

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LONG = " ".join(f"w{i}" for i in range(300))


def send_and_wait(qtbot: Any, tab: Any, text: str, timeout: int = 10_000) -> Any:
    with qtbot.waitSignal(tab.reply_finished, timeout=timeout) as done:
        tab.composer.edit.setPlainText(text)
        qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    assert not tab.busy
    return done.args[0]


def next_prompt(qtbot: Any, tab: Any) -> Any:
    """What "View prompt" shows for the next message (built by the engine, off the GUI)."""
    with qtbot.waitSignal(tab.session.preview_ready, timeout=10_000) as got:
        tab.session.preview(tab.composer.edit.toPlainText())
    return got.args[0].plan


def roles_and_texts(tab: Any) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in tab.store.messages(tab.conversation_id)]


def test_send_streams_and_persists(qtbot, make_chat) -> None:
    tab = make_chat(replies=["The sky is blue."], chat_template=CHATML)
    stats = send_and_wait(qtbot, tab, "Why is the sky blue?")
    assert stats.text == "The sky is blue."
    assert roles_and_texts(tab) == [
        ("user", "Why is the sky blue?"),
        ("assistant", "The sky is blue."),
    ]
    assert [w.role for w in tab.transcript.messages] == ["user", "assistant"]
    assert "The sky is blue." in tab.transcript.messages[1].body.toPlainText()
    assert "tokens/s" in tab.status.text()
    assert tab.context_label.text().count("Context") == 1
    assert tab.context_used == stats.prompt_tokens + stats.generated_tokens > 0
    assert tab.last_prompt is not None and tab.last_prompt.plan.mode == "template"
    assert "<|im_start|>user\nWhy is the sky blue?<|im_end|>" in tab.last_prompt.plan.text
    # the prompt is stored with the reply (View prompt shows it after a restart)
    stored = tab.store.messages(tab.conversation_id)[-1].stats["prompt"]
    assert stored["text"] == tab.last_prompt.plan.text and stored["mode"] == "template"
    assert stored["tokens"] == stats.prompt_tokens
    # the conversation is titled from its first message
    assert tab.store.get_conversation(tab.conversation_id).title.startswith("Why is the sky")


def test_stop_keeps_the_partial_reply(qtbot, make_chat) -> None:
    tab = make_chat(replies=[LONG], token_delay=0.01)
    tab.composer.edit.setPlainText("Count")
    qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    assert tab.composer.button.text() == "Stop"
    qtbot.waitUntil(lambda: tab.reply is not None and len(tab.reply.events) >= 5, timeout=10_000)
    with qtbot.waitSignal(tab.reply_finished, timeout=10_000) as done:
        qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    assert done.args[0].stop_reason == "cancelled"
    stored = tab.store.messages(tab.conversation_id)[-1]
    assert stored.status == "complete"
    assert stored.content and LONG.startswith(stored.content)
    assert len(stored.content) < len(LONG)
    assert tab.composer.button.text() == "Send"


def test_regenerate_replaces_the_reply(qtbot, make_chat) -> None:
    tab = make_chat(replies=["first answer", "second answer"])
    send_and_wait(qtbot, tab, "Hello")
    reply = tab.transcript.messages[-1]
    with qtbot.waitSignal(tab.reply_finished, timeout=10_000):
        qtbot.mouseClick(reply.regenerate_button, Qt.MouseButton.LeftButton)
    assert roles_and_texts(tab) == [("user", "Hello"), ("assistant", "second answer")]
    assert len(tab.transcript.messages) == 2


def test_edit_and_resend(qtbot, make_chat) -> None:
    tab = make_chat(replies=["about cats", "about dogs"])
    send_and_wait(qtbot, tab, "Tell me about cats")
    user = tab.transcript.messages[0]
    with qtbot.waitSignal(tab.reply_finished, timeout=10_000):
        tab.edit_message(user.message_id, "Tell me about dogs")
    assert roles_and_texts(tab) == [("user", "Tell me about dogs"), ("assistant", "about dogs")]
    assert tab.transcript.messages[0].body.toPlainText() == "Tell me about dogs"


def test_system_prompt_is_saved_and_sent(qtbot, make_chat) -> None:
    tab = make_chat(replies=["Arr."], chat_template=CHATML)
    tab.panel.system_prompt.setPlainText("You are a pirate.")
    assert tab.store.get_conversation(tab.conversation_id).system_prompt == "You are a pirate."
    send_and_wait(qtbot, tab, "Hi")
    assert tab.last_prompt.plan.text.startswith("<|im_start|>system\nYou are a pirate.<|im_end|>")
    tab.panel.save_preset("Pirate")
    names = [tab.panel.preset_combo.itemText(i) for i in range(tab.panel.preset_combo.count())]
    assert "Pirate" in names


def test_base_model_mode_prompt_and_stop(qtbot, make_chat) -> None:
    # no chat template: the tab switches to base-model mode by itself
    tab = make_chat(replies=[f"Paris.\n{USER_LABEL}: and what about Rome?"])
    assert tab.prompt_mode == "base"
    stats = send_and_wait(qtbot, tab, "Capital of France?")
    assert stats.text == "Paris."
    assert tab.last_prompt.plan.mode == "base"
    assert tab.last_prompt.plan.text.endswith(f"{USER_LABEL}: Capital of France?\nAssistant:")
    assert roles_and_texts(tab)[-1] == ("assistant", "Paris.")
    # "View prompt" shows exactly what was sent for the next turn
    tab.composer.edit.setPlainText("And Spain?")
    assert next_prompt(qtbot, tab).text.endswith(f"{USER_LABEL}: And Spain?\nAssistant:")


def test_token_probabilities_colour_and_hover(qtbot, make_chat) -> None:
    tab = make_chat(replies=["alpha beta gamma delta"])  # p = 1, 1/2, 1/3, 1/4
    tab.panel.show_probabilities.setChecked(True)
    send_and_wait(qtbot, tab, "Go")
    reply = tab.transcript.messages[-1]
    assert len(reply.events) == 4 and reply.events[0].alternatives
    html = reply.body.toHtml()
    assert "background-color:#c6dbef" in html  # the first token has p = 1.0
    # not by colour alone: the unlikely token is underlined, the sure ones are not
    from PySide6.QtGui import QTextCharFormat

    def underline(word: str) -> QTextCharFormat.UnderlineStyle:
        cursor = reply.body.document().find(word)
        return cursor.charFormat().underlineStyle()

    assert underline("delta") == QTextCharFormat.UnderlineStyle.DotLine  # p = 1/4
    assert underline("alpha") == QTextCharFormat.UnderlineStyle.NoUnderline
    point = reply.body.cursorRect(reply.body.document().find("beta")).center()
    assert "Top alternatives" in reply.body.tooltip_at(point + QPoint(2, 0)) or (
        "Top alternatives" in reply.body.tooltip_at(point)
    )
    # stored with the message, so a reopened conversation still shows the colours
    assert tab.store.messages(tab.conversation_id)[-1].token_probs
    tab.panel.show_probabilities.setChecked(False)
    assert "background-color:#c6dbef" not in reply.body.toHtml()


def test_reasoning_is_collapsed_apart_from_the_answer(qtbot, make_chat) -> None:
    tab = make_chat(replies=["<think>Let me think about it.</think>The answer is 4."])
    send_and_wait(qtbot, tab, "2+2?")
    reply = tab.transcript.messages[-1]
    assert reply.reasoning_toggle.isVisible()
    assert "Reasoning" in reply.reasoning_toggle.text()
    assert not reply.reasoning_view.isVisible()
    assert reply.body.toPlainText().strip() == "The answer is 4."
    reply.reasoning_toggle.click()
    assert reply.reasoning_view.isVisible()
    assert "Let me think" in reply.reasoning_view.toPlainText()
    qtbot.mouseClick(reply.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "The answer is 4."  # the answer, not the thinking


def test_markdown_is_rendered(qtbot, make_chat) -> None:
    tab = make_chat(replies=["Some **bold** text"])
    send_and_wait(qtbot, tab, "md")
    body = tab.transcript.messages[-1].body
    assert body.toPlainText().strip() == "Some bold text"
    assert "font-weight" in body.toHtml()


def test_model_crash_keeps_the_partial_reply(qtbot, make_chat) -> None:
    tab = make_chat(replies=[LONG], crash_after_tokens=5, token_delay=0.06)
    with qtbot.waitSignal(tab.reply_finished, timeout=10_000):
        tab.composer.edit.setPlainText("crash please")
        qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model is None)
    stored = tab.store.messages(tab.conversation_id)
    assert stored[0].content == "crash please"
    assert stored[-1].status == "error" and stored[-1].content == "w0 w1 w2 w3 w4"
    error = tab.transcript.messages[-1].error_label.text()
    assert (
        "The model crashed" in error
        and "SIGSEGV" in error
        and "What it wrote so far is kept" in error
    )
    assert "another quantization" in error and "F16" in error  # what to try
    assert tab.model is None
    assert "crashed" in tab.model_bar.info.text() and "Load" in tab.model_bar.info.text()
    # the sentence appears once: not repeated in the model bar or the status line
    assert "SIGSEGV" not in tab.model_bar.info.text() and "SIGSEGV" not in tab.status.text()


def test_export_and_sidebar(qtbot, make_chat, tmp_path: Path) -> None:
    tab = make_chat(replies=["hi there"])
    send_and_wait(qtbot, tab, "hello")
    first = tab.conversation_id
    qtbot.mouseClick(tab.sidebar.new_button, Qt.MouseButton.LeftButton)
    assert tab.conversation_id != first and not tab.transcript.messages
    assert tab.sidebar.model.rowCount() == 2
    out = tmp_path / "all.jsonl"
    assert tab.sidebar.export([first], str(out)) == 1
    line = json.loads(out.read_text().splitlines()[0])
    assert line["messages"][-2:] == [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi there"},
    ]
    tab.sidebar.rename(first, "Greetings")
    assert tab.store.get_conversation(first).title == "Greetings"
    tab.open_conversation(first)
    assert [w.role for w in tab.transcript.messages] == ["user", "assistant"]
    assert tab.sidebar.delete(first, confirm=False)
    assert tab.sidebar.model.rowCount() == 1


def test_send_without_a_model_explains(qtbot, make_chat) -> None:
    tab = make_chat(load=False)
    tab.composer.edit.setPlainText("hello?")
    qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    assert "Load a model first" in tab.status.text()
    assert tab.composer.edit.toPlainText() == "hello?"  # nothing typed is lost
    assert tab.store.messages(tab.conversation_id) == []


def test_broken_model_file_is_refused_and_the_tab_lives_on(
    qtbot, make_chat, broken_ggufs, tiny_gguf
) -> None:
    tab = make_chat(load=False, replies=["fine"])
    says = {  # the cause, and the remedy
        "mid_tensor_data": ("is truncated", "Download it again"),
        "random_bytes": ("is not a GGUF file", "Pick a .gguf model file"),
        "empty": ("is empty", "Download it again"),
    }
    for kind, (cause, remedy) in says.items():
        tab.model_bar.info.setText("")
        tab.load_model(str(broken_ggufs(kind)))
        qtbot.waitUntil(lambda: "⚠" in tab.model_bar.info.text(), timeout=10_000)
        shown = tab.model_bar.info.text()
        assert f"broken-{kind}.gguf {cause}" in shown and remedy in shown
        assert tab.model is None
        assert tab.model_bar.load_button.text() == "Load"  # not stuck in "loading"
    # a good file still loads afterwards, and chat works
    tab.load_model(str(tiny_gguf))
    qtbot.waitUntil(lambda: tab.model is not None, timeout=10_000)
    assert send_and_wait(qtbot, tab, "ok?").text == "fine"


def test_cancel_a_slow_load(qtbot, make_chat, tiny_gguf) -> None:
    tab = make_chat(load=False, load_seconds=20)
    tab.load_model(str(tiny_gguf))
    qtbot.waitUntil(lambda: tab.model_bar.load_button.text() == "Cancel", timeout=10_000)
    qtbot.mouseClick(tab.model_bar.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model_bar.load_button.text() == "Load", timeout=10_000)
    assert tab.model is None and "cancelled" in tab.model_bar.info.text()


def test_context_is_counted_by_the_models_tokenizer_on_open(qtbot, make_chat) -> None:
    tab = make_chat(replies=["four words right here"])
    send_and_wait(qtbot, tab, "one two three")
    first = tab.conversation_id
    tab.open_conversation(tab.new_chat())
    qtbot.waitUntil(lambda: tab.context_used > 0, timeout=10_000)  # the empty prompt
    empty = tab.context_used
    tab.open_conversation(first)
    qtbot.waitUntil(lambda: tab.context_used > empty, timeout=10_000)
    expected = 1 + len(pieces(next_prompt(qtbot, tab).text))  # BOS, then one per word
    assert tab.context_used == expected  # counted by the (scripted) model's tokenizer


def test_the_streaming_chat_cannot_be_left_or_deleted(qtbot, make_chat) -> None:
    tab = make_chat(replies=[LONG], token_delay=0.01)
    other = tab.new_chat()
    streaming = tab.new_chat()
    tab.open_conversation(streaming)
    tab.composer.edit.setPlainText("Count")
    qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    assert tab.composer.edit.toPlainText() == ""  # kept on disk, so the box is cleared
    qtbot.waitUntil(lambda: tab.reply is not None and len(tab.reply.events) >= 3, timeout=10_000)
    assert not tab.model_bar.isEnabled()  # no model swap under a streaming reply
    assert not tab.sidebar.delete(streaming, confirm=False)
    tab.open_conversation(other)
    assert tab.conversation_id == streaming and "Stop the reply" in tab.status.text()
    current = tab.sidebar.view.currentIndex().data(tab.sidebar.model.IdRole)
    assert current == streaming  # the sidebar does not pretend to have switched
    with qtbot.waitSignal(tab.reply_finished, timeout=10_000):
        tab.stop()
    assert tab.model_bar.isEnabled()
    assert tab.store.messages(streaming)[-1].status == "complete"
    assert tab.sidebar.delete(streaming, confirm=False)
    assert tab.conversation_id != streaming


def test_each_model_load_sets_base_mode_from_its_template(qtbot, make_chat, tiny_gguf) -> None:
    tab = make_chat(load=False, chat_template=CHATML)
    tab.panel.set_mode("base")  # left on from a base model
    tab.load_model(str(tiny_gguf))
    qtbot.waitUntil(lambda: tab.model is not None, timeout=10_000)
    assert tab.prompt_mode == "template"
    assert next_prompt(qtbot, tab).mode == "template"


def test_the_prompt_mode_is_remembered_per_model_across_loads_and_restarts(
    qtbot, make_chat, tiny_gguf, tiny_base_gguf
) -> None:
    """Unticking base-model mode once "ticked itself again on reload": the mode a person
    picks for a model comes back with that model, also after a restart; another model
    gets its own (by the one base-or-instruct rule)."""

    def load(tab: Any, path: Path) -> None:
        tab.load_model(str(path))
        qtbot.waitUntil(
            lambda: tab.model is not None and tab.model.path == str(path), timeout=10_000
        )

    tab = make_chat(load=False, chat_template=CHATML)
    load(tab, tiny_gguf)
    assert tab.prompt_mode == "template"  # tiny-chat: instruct by its name
    raw = tab.panel.mode.findData("raw")
    tab.panel.mode.setCurrentIndex(raw)
    tab.panel.mode.activated.emit(raw)  # as a click picks it
    load(tab, tiny_base_gguf)
    assert tab.prompt_mode == "base"  # its name says base; the other model's choice stays there
    load(tab, tiny_gguf)
    assert tab.prompt_mode == "raw"
    assert next_prompt(qtbot, tab).mode == "raw"
    again = make_chat(load=False, chat_template=CHATML)  # the app started again
    load(again, tiny_gguf)
    assert again.prompt_mode == "raw"


def test_regenerating_an_early_reply_asks_first(qtbot, make_chat, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    tab = make_chat(replies=["one", "two", "three"])
    send_and_wait(qtbot, tab, "first")
    send_and_wait(qtbot, tab, "second")
    early = tab.transcript.messages[1].message_id
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    tab.regenerate(early)
    assert not tab.busy and len(roles_and_texts(tab)) == 4  # declined: nothing lost
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(tab.reply_finished, timeout=10_000):
        tab.regenerate(early)
    assert roles_and_texts(tab) == [("user", "first"), ("assistant", "three")]


def test_a_failed_reply_leaves_a_prompt_the_template_accepts(qtbot, make_chat) -> None:
    strict = (
        "{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('roles must alternate') }}{% endif %}"
        "[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    )
    tab = make_chat(replies=["recovered"], chat_template=strict)
    conversation = tab.store.create_conversation()
    tab.store.add_message(conversation.id, "user", "first try")
    failed = tab.store.start_reply(conversation.id)
    tab.store.finish_reply(failed.id, "w0 w1", "error", {"error": "the model crashed"})
    tab.open_conversation(conversation.id)
    assert send_and_wait(qtbot, tab, "second try").text == "recovered"
    assert tab.last_prompt.plan.mode == "template"
    assert "[user] first try\n\nsecond try" in tab.last_prompt.plan.text


def test_an_example_sets_its_mode_and_says_what_to_look_at(qtbot, make_chat) -> None:
    from desktop.core.chat.chat_examples import CHAT_EXAMPLES

    tab = make_chat(chat_template=CHATML)
    index = next(i for i, e in enumerate(CHAT_EXAMPLES) if e.mode == "raw")
    tab.use_example(index)
    assert tab.composer.edit.toPlainText() == CHAT_EXAMPLES[index].text
    assert tab.prompt_mode == "raw" and "continues" in tab.status.text()
    cutoff = next(i for i, e in enumerate(CHAT_EXAMPLES) if "year is it" in e.text)
    tab.use_example(cutoff)
    assert tab.prompt_mode == "raw"  # a note only: the mode stays as chosen
    assert "clock" in tab.status.text()


def test_the_modes_side_by_side(qtbot, make_chat) -> None:
    tab = make_chat(chat_template=CHATML, replies=["Shakespeare."] * 3)
    tab.composer.edit.setPlainText("Who wrote Romeo and Juliet?")
    tab.compare_modes()
    dialog = tab.modes_dialog
    assert list(dialog.columns) == ["raw", "base", "template"]
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    for mode, column in dialog.columns.items():
        assert column.reply.toPlainText() == "Shakespeare.", mode
        assert "prompt:" in column.figures.text() and "stopped" in column.figures.text()
    # each column got its own prompt: the raw one is the bare question, the others wrap it
    sizes = {m: int(c.figures.text().split("prompt: ")[1].split(" ")[0].replace(",", ""))
             for m, c in dialog.columns.items()}  # fmt: skip
    assert sizes["raw"] == 1 + len(["Who", "wrote", "Romeo", "and", "Juliet?"])  # BOS + words
    assert sizes["raw"] < sizes["template"] < sizes["base"]
    assert tab.store.messages(tab.conversation_id) == []  # nothing stored in the chat
    dialog.reject()


def test_a_full_disk_at_send_is_said_and_the_message_stays_in_the_box(
    qtbot, make_chat, monkeypatch
) -> None:
    import sqlite3

    tab = make_chat(replies=["never"])

    def full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(tab.store, "add_message", full)
    tab.composer.edit.setPlainText("hello?")
    qtbot.mouseClick(tab.composer.button, Qt.MouseButton.LeftButton)
    assert "could not be saved" in tab.status.text() and "disk is full" in tab.status.text()
    assert tab.composer.edit.toPlainText() == "hello?" and not tab.busy


def test_the_built_in_model_is_one_click_away_on_a_first_launch(qtbot, make_chat) -> None:
    from desktop.core.resources import STARTER_ASSISTANT, bundled_models
    from desktop.ui.chat.transcript import BUILT_IN_LINK

    tab = make_chat(load=False)
    base, starter = bundled_models()  # the base model and the post-trained one
    assert starter.name == STARTER_ASSISTANT and base.name == "deepdive-starter.gguf"
    for path in (base, starter):  # listed with no library at all
        index = tab.model_bar.combo.findData(str(path))
        assert index >= 0 and "(built in)" in tab.model_bar.combo.itemText(index)
    assert tab.model_bar.current_path() == str(starter)  # Load, too, starts with the assistant
    assert "Try the built-in model" in tab.transcript._hint.text()
    assert tab.transcript._hint.text().index("built-in") < tab.transcript._hint.text().index(
        "download one"
    )  # offline ways first
    tab.transcript.hint_link.emit(BUILT_IN_LINK)  # what clicking the link does
    qtbot.waitUntil(lambda: tab.model is not None, timeout=10_000)
    assert tab.model.path == str(starter)
    assert "Try the built-in model" not in tab.transcript._hint.text()  # loaded: what to try


def test_each_reply_shows_the_prompt_it_came_from(qtbot, make_chat) -> None:
    """A reply's Prompt button: the exact text sent for that reply (stored with it), not
    the latest one, and the next message's prompt beside it."""
    from desktop.ui.chat.prompt_dialog import PromptDialog

    tab = make_chat(replies=["Paris.", "Rome."], chat_template=CHATML)
    send_and_wait(qtbot, tab, "Capital of France?")
    send_and_wait(qtbot, tab, "And of Italy?")
    first_reply, second_reply = [w for w in tab.transcript.messages if w.role == "assistant"]
    assert first_reply.prompt_button.isVisible() and second_reply.prompt_button.isVisible()
    assert not tab.transcript.messages[0].prompt_button.isVisible()  # a question has none
    first_reply.prompt_button.click()
    dialog = tab.findChildren(PromptDialog)[-1]
    shown = dialog.last.text.toPlainText()
    assert shown.endswith("Capital of France?<|im_end|>\n<|im_start|>assistant\n")
    assert "And of Italy?" not in shown  # that question came after this reply
    assert dialog.pages.tabText(0) == "This reply's prompt"
    dialog.close()
    second_reply.prompt_button.click()
    dialog = tab.findChildren(PromptDialog)[-1]
    assert "And of Italy?<|im_end|>" in dialog.last.text.toPlainText()
    assert dialog.pages.tabText(0) == "Latest reply's prompt"

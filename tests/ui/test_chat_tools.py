"""The Chat tab's tools, clicked through: the model's call shown as code with Run / Don't
run / Always allow; the run (the real sandbox) off the GUI thread; the result back to the
model and its final answer; all of it stored and shown again on reopening. Documents as
chips, placed in the prompt, highlighted in View prompt; hostile files refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from desktop.core.tools.tool_results import REFUSED
from desktop.core.tools.tool_specs import RUN_PYTHON, SEARCH
from desktop.ui.chat.prompt_dialog import PromptDialog
from desktop.ui.chat.tool_card import ToolCard
from tests.sandbox_fixtures import sandbox  # noqa: F401
from tests.tool_fixtures import COUNT_RS, HERMES_TOOLS_TEMPLATE, hermes_call

QUESTION = "How many r's are in 'raspberry'?"


def cards(tab: Any) -> list[ToolCard]:
    return tab.transcript.findChildren(ToolCard)


def asking(tab: Any) -> ToolCard | None:
    return next((c for c in cards(tab) if c.run_button.isVisible()), None)


def wait_done(qtbot: Any, tab: Any, replies: int) -> None:
    qtbot.waitUntil(
        lambda: not tab.busy and len(tab.transcript.messages) == 1 + replies, timeout=60_000
    )


def roles(tab: Any) -> list[str]:
    return [m.role for m in tab.store.messages(tab.conversation_id)]


def test_approve_run_and_the_model_answers_with_the_result(
    qtbot,
    make_chat,
    sandbox,  # noqa: F811
) -> None:
    tab = make_chat(
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[hermes_call(RUN_PYTHON, code=COUNT_RS), "There are 3 r's."],
    )
    tab.composer.use_code.setChecked(True)
    tab.send(QUESTION)
    qtbot.waitUntil(lambda: asking(tab) is not None, timeout=20_000)
    card = asking(tab)
    assert card is not None and "print('raspberry'.count('r'))" in card.code.toPlainText()
    assert tab.busy and tab.composer.button.text() == "Stop"  # waiting for the person
    qtbot.mouseClick(card.run_button, Qt.MouseButton.LeftButton)
    wait_done(qtbot, tab, replies=2)
    assert card.output is not None and card.output.toPlainText() == "3\n"
    assert "approved" in card.status.text()
    call_reply, answer = tab.transcript.messages[1:]
    assert call_reply.text == "Let me check." and answer.text == "There are 3 r's."
    stored = tab.store.messages(tab.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[0].content == f"{QUESTION} Use code." and stored[2].content == "3"
    prompt = stored[3].stats["prompt"]
    assert "<tool_response>\n3\n</tool_response>" in prompt["text"]
    assert prompt["tool_format"] == "template"

    tab.open_conversation(tab.conversation_id)  # reopened: the call and its result again
    (shown,) = cards(tab)
    assert shown.output is not None and shown.output.toPlainText() == "3\n"
    assert not shown.run_button.isVisible() and "print(" in shown.code.toPlainText()


def test_dont_run_tells_the_model_and_shows_it(qtbot, make_chat) -> None:
    tab = make_chat(
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[hermes_call(RUN_PYTHON, code="import os"), "I will guess: 2."],
    )
    tab.composer.use_code.setChecked(True)
    tab.send(QUESTION)
    qtbot.waitUntil(lambda: asking(tab) is not None, timeout=20_000)
    qtbot.mouseClick(asking(tab).refuse_button, Qt.MouseButton.LeftButton)
    wait_done(qtbot, tab, replies=2)
    (card,) = cards(tab)
    assert "you did not allow it" in card.status.text() and card.output is None
    stored = tab.store.messages(tab.conversation_id)
    assert stored[2].role == "tool" and stored[2].content == REFUSED
    assert REFUSED in stored[3].stats["prompt"]["text"]


def test_always_allow_asks_once_then_runs(qtbot, make_chat, sandbox) -> None:  # noqa: F811
    tab = make_chat(
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[
            hermes_call(RUN_PYTHON, code="print(1)"),
            hermes_call(RUN_PYTHON, code="print(1 / 0)"),
            "Done.",
        ],
    )
    asked: list[str] = []
    tab.session.tool_steps.approval_needed.connect(asked.append)
    tab.composer.use_code.setChecked(True)
    tab.send("Run two programs.")
    qtbot.waitUntil(lambda: asking(tab) is not None, timeout=20_000)
    qtbot.mouseClick(asking(tab).always_button, Qt.MouseButton.LeftButton)
    wait_done(qtbot, tab, replies=3)
    _, second = cards(tab)
    assert len(asked) == 1 and "always allowed" in second.status.text()
    assert "ZeroDivisionError: division by zero" in second.error.text()  # an error, shown
    assert roles(tab) == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert "ZeroDivisionError" in tab.store.messages(tab.conversation_id)[4].content


def test_stop_while_waiting_for_approval_ends_the_turn(qtbot, make_chat) -> None:
    tab = make_chat(
        chat_template=HERMES_TOOLS_TEMPLATE, replies=[hermes_call(RUN_PYTHON, code="print(1)")]
    )
    tab.composer.use_code.setChecked(True)
    tab.send(QUESTION)
    qtbot.waitUntil(lambda: asking(tab) is not None, timeout=20_000)
    tab.stop()
    assert not tab.busy and tab.composer.button.text() == "Send"
    tab.open_conversation(tab.conversation_id)
    assert "closed before it was approved" in cards(tab)[0].status.text()


def test_a_search_runs_without_asking_and_the_answer_cites_its_source(qtbot, make_chat) -> None:
    tab = make_chat(
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[
            hermes_call(SEARCH, query="Velmora census population"),
            "Velmora has few people [velmora:1] [velmora:99].",
        ],
    )
    tab.composer.let_search.setChecked(True)
    tab.send("How many people live on Velmora?")
    wait_done(qtbot, tab, replies=2)
    (card,) = cards(tab)
    assert card.output is not None and card.output.toPlainText().startswith("[velmora:1] Velmora")
    answer = tab.transcript.messages[-1]
    assert "[velmora:1] Velmora</a>" in answer.sources_label.text()
    assert "velmora:99" not in answer.sources_label.text()  # an id the model made up
    stored = tab.store.messages(tab.conversation_id)[-1]
    assert [s["id"] for s in stored.stats["sources"]] == ["velmora:1"]
    tab.open_conversation(tab.conversation_id)
    assert "[velmora:1]" in tab.transcript.messages[-1].sources_label.text()


def test_documents_are_chips_in_the_prompt_and_refused_with_a_sentence(
    qtbot, make_chat, tmp_path: Path
) -> None:
    tab = make_chat(replies=["The lighthouse was built in 1873."])
    notes = tmp_path / "karrow.md"
    notes.write_text("# Karrow\n\nThe lighthouse of Karrow was built in 1873.\n")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    tab.attachments.attach([str(notes), str(binary)])
    qtbot.waitUntil(lambda: len(tab.composer.chips.chips) == 1, timeout=10_000)
    assert tab.composer.chips.isVisible() and "blob.txt looks like a binary" in tab.status.text()
    tab.composer.edit.setPlainText("When was the lighthouse built?")
    tab.show_prompt_dialog()
    dialog = tab.findChild(PromptDialog)
    qtbot.waitUntil(lambda: "Documents:" in dialog.next.about.text(), timeout=10_000)
    assert "karrow.md in the prompt, whole" in dialog.next.about.text()
    assert '<document name="karrow.md">' in dialog.next.text.toPlainText()
    assert dialog.next.text.extraSelections()  # where they are, highlighted
    dialog.close()
    tab.send("When was the lighthouse built?")
    wait_done(qtbot, tab, replies=1)
    prompt = tab.store.messages(tab.conversation_id)[1].stats["prompt"]
    assert "built in 1873.\n</document>\n\nQuestion: When was" in prompt["text"]
    qtbot.mouseClick(tab.composer.chips.chips[0].remove_button, Qt.MouseButton.LeftButton)
    assert tab.composer.chips.chips == [] and tab.store.documents.list(tab.conversation_id) == []

"""Tool calls and their results in the conversation store: stored, read back as the
model's history, exported as OpenAI `tool_calls` / `tool` messages; databases from before
tools (schema 4) still open, their conversations unchanged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from desktop.core.api.tool_calls import ToolCall
from desktop.core.chat.generation import ChatMessage
from desktop.core.storage.conversations import ConversationStore
from desktop.core.storage.database import MIGRATIONS
from desktop.core.tools.tool_format import as_plain_turns, read_reply
from desktop.core.tools.tool_loop import rounds_used, tools_left, with_missing_results
from desktop.core.tools.tool_results import NOT_RUN, REFUSED, ToolOutcome, bounded

CALL = ToolCall("run_python", json.dumps({"code": "print(3)"}), "call_1")


def stored_turn(store: ConversationStore) -> int:
    conversation = store.create_conversation(system_prompt="Be brief.")
    store.add_message(conversation.id, "user", "Count the r's. Use code.")
    reply = store.start_reply(conversation.id)
    tool = {
        "calls": [{"id": CALL.id, "name": CALL.name, "arguments": CALL.arguments}],
        "content": "Let me count.",
        "format": "template",
    }
    store.finish_reply(reply.id, 'Let me count.<tool_call>{"name": …}</tool_call>', tool=tool)
    store.add_tool_result(
        conversation.id, ToolOutcome(CALL.id, CALL.name, "ran", "3", {"result": {"stdout": "3\n"}})
    )
    final = store.start_reply(conversation.id)
    store.finish_reply(final.id, "There are 3.")
    return conversation.id


def test_calls_and_results_are_stored_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with ConversationStore(path) as store:
        conversation_id = stored_turn(store)
    with ConversationStore(path) as store:  # reopened
        messages = store.messages(conversation_id)
        assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant"]
        assert messages[1].tool_calls == (CALL,) and messages[1].shown_text == "Let me count."
        assert "<tool_call>" in messages[1].content  # what the model wrote is kept as written
        assert messages[2].tool == {
            "call_id": "call_1",
            "name": "run_python",
            "status": "ran",
            "record": {"result": {"stdout": "3\n"}},
        }
        history = store.chat_messages(conversation_id)
        assert history[2] == ChatMessage("assistant", "Let me count.", tool_calls=(CALL,))
        assert history[3] == ChatMessage("tool", "3", tool_call_id="call_1", name="run_python")


def test_export_keeps_openai_tool_calls_and_tool_messages(tmp_path: Path) -> None:
    with ConversationStore(tmp_path / "db.sqlite3") as store:
        conversation_id = stored_turn(store)
        out = tmp_path / "out.jsonl"
        assert store.export_jsonl([conversation_id], out) == 1
    messages = json.loads(out.read_text())["messages"]
    assert messages[2] == {
        "role": "assistant",
        "content": "Let me count.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "run_python", "arguments": '{"code": "print(3)"}'},
            }
        ],
    }
    assert messages[3] == {"role": "tool", "content": "3", "tool_call_id": "call_1"}
    assert messages[4] == {"role": "assistant", "content": "There are 3."}


def test_a_database_from_before_tools_opens_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:4]:
        step(conn)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('Old', 1, 1)")
    conn.execute(
        "INSERT INTO messages (conversation_id, position, role, content, created_at)"
        " VALUES (1, 0, 'user', 'hello', 1)"
    )
    conn.close()
    with ConversationStore(path) as store:
        (message,) = store.messages(1)
        assert message.content == "hello" and message.tool is None
        assert store.chat_messages(1) == [ChatMessage("user", "hello")]
        assert store.documents.list(1) == []


def test_a_call_left_without_a_result_is_given_one() -> None:
    asked = ChatMessage("assistant", "", tool_calls=(CALL,))
    completed = with_missing_results([ChatMessage("user", "q"), asked, ChatMessage("user", "q2")])
    assert completed[2] == ChatMessage("tool", NOT_RUN, tool_call_id="call_1", name="run_python")


def test_plain_turns_write_calls_as_fenced_blocks_and_results_as_user_turns() -> None:
    plain = as_plain_turns(
        [
            ChatMessage("assistant", "Counting.", tool_calls=(CALL,)),
            ChatMessage("tool", REFUSED, tool_call_id="call_1", name="run_python"),
        ]
    )
    assert plain[0] == ChatMessage("assistant", "Counting.\n\n```python\nprint(3)\n```")
    assert plain[1] == ChatMessage("user", f"Output of the program:\n```\n{REFUSED}\n```")


def test_fenced_replies_are_read_only_for_offered_tools() -> None:
    text = "Sure.\n```search\nvelmora census\n```\n```python\nprint(1)\n```"
    read = read_reply(text, "fenced", ("run_python",))
    assert read.content.startswith("Sure.\n```search") and read.calls[0].name == "run_python"
    assert read_reply(text, "fenced", ()).calls == ()
    assert read_reply("```python\n\n```", "fenced", ("run_python",)).calls == ()  # no code


def test_rounds_count_from_the_last_question() -> None:
    asked = ChatMessage("assistant", "", tool_calls=(CALL,))
    history = [ChatMessage("user", "q"), asked, asked, ChatMessage("user", "q2"), asked]
    assert rounds_used(history) == 1
    assert tools_left([ChatMessage("user", "q"), *[asked] * 4], ("run_python",)) == ()


def test_long_output_keeps_its_start_and_its_end() -> None:
    text = "start " + "x" * 10_000 + " the end"
    short = bounded(text, 1000)
    assert short.startswith("start") and short.endswith("the end") and len(short) < 1100

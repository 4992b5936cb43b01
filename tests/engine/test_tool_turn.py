"""The tool loop with the scripted backend in the real host process and, where code runs,
the real sandbox: the model's call -> approval -> run -> the result back in the next prompt
-> the final answer; refusal; errors and limits; "always allow"; both call formats; the
bounded number of rounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.core.api.tool_calls import ToolCall
from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.generation import ChatMessage, LoadSettings
from desktop.core.sandbox.limits import SandboxLimits
from desktop.core.tools.tool_loop import MAX_ROUNDS
from desktop.core.tools.tool_results import REFUSED, ToolOutcome
from desktop.core.tools.tool_specs import RUN_PYTHON, SEARCH
from desktop.engine.tool_runner import ToolKit, run_call
from desktop.engine.tool_turn import answer_with_tools
from tests.sandbox_fixtures import sandbox  # noqa: F401
from tests.tool_fixtures import CHATML, COUNT_RS, HERMES_TOOLS_TEMPLATE, fenced_python, hermes_call

QUESTION = (ChatMessage("user", "How many r's are in 'raspberry'? Use code."),)


def loaded(scripted_session: Any, path: Path, **script: Any) -> Any:
    session = scripted_session(**script)
    session.load(str(path), LoadSettings(context_size=4096))
    return session


def prompts_of(turn: Any) -> list[str]:
    return [reply.prompt.plan.text for reply in turn.replies]


def test_a_template_tool_call_runs_after_approval_and_the_result_goes_back(
    scripted_session,
    tiny_gguf,
    sandbox,  # noqa: F811
) -> None:
    session = loaded(
        scripted_session,
        tiny_gguf,
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[hermes_call(RUN_PYTHON, code=COUNT_RS), "There are 3 r's."],
    )
    asked: list[ToolCall] = []
    kit = ToolKit((RUN_PYTHON,))

    def decide(call: ToolCall) -> str:
        asked.append(call)
        return "run"

    turn = answer_with_tools(
        session,
        ChatRequest(QUESTION, tools=(RUN_PYTHON,)),
        decide,
        lambda call, how: run_call(call, kit, approval=how),
    )
    first, second = prompts_of(turn)
    assert turn.replies[0].prompt.tool_format == "template"
    assert '"name": "run_python"' in first  # the schema went to the template's `tools`
    assert [c.name for c in asked] == [RUN_PYTHON] and "count('r')" in asked[0].arguments
    assert turn.outcomes[0].status == "ran" and turn.outcomes[0].text == "3"
    assert "<tool_response>\n3\n</tool_response>" in second  # the result, as the template has it
    assert "<tool_call>" in second and "count" in second  # ... after the call itself
    call_message, result, answer = turn.messages
    assert call_message.content == "Let me check." and call_message.tool_calls == tuple(asked)
    assert result.role == "tool" and result.tool_call_id == asked[0].id
    assert answer.content == "There are 3 r's." and turn.answer == "There are 3 r's."


def test_a_model_without_tool_template_uses_a_fenced_block(
    scripted_session,
    tiny_base_gguf,
    sandbox,  # noqa: F811
) -> None:
    session = loaded(
        scripted_session, tiny_base_gguf, replies=[fenced_python(COUNT_RS), "It has 3 r's."]
    )
    kit = ToolKit((RUN_PYTHON,))
    turn = answer_with_tools(
        session,
        ChatRequest(QUESTION, tools=(RUN_PYTHON,)),
        lambda call: "run",
        lambda call, how: run_call(call, kit, approval=how),
    )
    first, second = prompts_of(turn)
    assert turn.replies[0].prompt.tool_format == "fenced"
    assert "write it in a fenced block" in first and "User: How many r's" in first
    assert turn.messages[0].content == "I will count with code."  # the invented output dropped
    assert "Output of the program:\n```\n3\n```" in second
    assert "The output is 2" not in second
    assert turn.answer == "It has 3 r's."


def test_a_chat_template_without_tools_also_gets_the_fenced_form(
    scripted_session, tiny_gguf
) -> None:
    session = loaded(scripted_session, tiny_gguf, chat_template=CHATML, replies=["Fine."])
    turn = answer_with_tools(
        session,
        ChatRequest(QUESTION, tools=(RUN_PYTHON,)),
        lambda call: "run",
        lambda call, how: pytest.fail("no call"),
    )
    fitted = turn.replies[0].prompt
    assert fitted.tool_format == "fenced"
    assert fitted.plan.text.startswith("<|im_start|>system\nYou can run Python code.")


def test_a_refusal_is_told_to_the_model(scripted_session, tiny_gguf) -> None:
    session = loaded(
        scripted_session,
        tiny_gguf,
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[hermes_call(RUN_PYTHON, code="import os"), "Then I guess: 2."],
    )
    ran: list[ToolCall] = []

    def execute(call: ToolCall, how: str) -> ToolOutcome:
        ran.append(call)
        raise AssertionError("a refused call must not run")

    turn = answer_with_tools(
        session, ChatRequest(QUESTION, tools=(RUN_PYTHON,)), lambda call: "refuse", execute
    )
    assert ran == [] and turn.outcomes[0].status == "refused"
    assert f"<tool_response>\n{REFUSED}\n</tool_response>" in prompts_of(turn)[1]
    assert turn.answer == "Then I guess: 2."


def test_an_exception_and_a_limit_come_back_as_their_sentences(
    scripted_session,
    tiny_gguf,
    sandbox,  # noqa: F811
) -> None:
    session = loaded(
        scripted_session,
        tiny_gguf,
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[
            hermes_call(RUN_PYTHON, code="print(1 / 0)"),
            hermes_call(RUN_PYTHON, code="print('x' * 5000)"),
            "I could not.",
        ],
    )
    kit = ToolKit((RUN_PYTHON,), limits=SandboxLimits(output_bytes=1024))
    turn = answer_with_tools(
        session,
        ChatRequest(QUESTION, tools=(RUN_PYTHON,)),
        lambda call: "run",
        lambda call, how: run_call(call, kit, approval=how),
    )
    error, limit = turn.outcomes
    assert error.status == "failed" and "ZeroDivisionError: division by zero" in error.text
    assert limit.status == "failed" and limit.record["result"]["limit_hit"] == "output"
    assert kit.limits.sentence("output") in limit.text
    assert "ZeroDivisionError" in prompts_of(turn)[1]
    assert kit.limits.sentence("output") in prompts_of(turn)[2]


def test_always_allow_asks_once_per_conversation(scripted_session, tiny_gguf) -> None:
    session = loaded(
        scripted_session,
        tiny_gguf,
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[
            hermes_call(RUN_PYTHON, code="print(1)"),
            hermes_call(RUN_PYTHON, code="print(2)"),
            "Done.",
        ],
    )
    asked: list[ToolCall] = []
    how_run: list[str] = []

    def decide(call: ToolCall) -> str:
        asked.append(call)
        return "always"

    def execute(call: ToolCall, how: str) -> ToolOutcome:
        how_run.append(how)
        return ToolOutcome(call.id, call.name, "ran", "ok")

    turn = answer_with_tools(session, ChatRequest(QUESTION, tools=(RUN_PYTHON,)), decide, execute)
    assert len(asked) == 1 and how_run == ["always", "always"] and turn.always_allowed


def test_rounds_are_bounded_then_the_model_must_answer(scripted_session, tiny_gguf) -> None:
    session = loaded(
        scripted_session,
        tiny_gguf,
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[hermes_call(RUN_PYTHON, code="print(1)")],
    )  # always a call
    turn = answer_with_tools(
        session,
        ChatRequest(QUESTION, tools=(RUN_PYTHON,)),
        lambda call: "run",
        lambda call, how: ToolOutcome(call.id, call.name, "ran", "1"),
    )
    assert len(turn.outcomes) == MAX_ROUNDS
    last = turn.replies[-1].prompt
    assert last.tools == () and last.tool_format is None and "<tools>" not in last.plan.text
    assert "<tool_call>" in turn.answer  # not read as a call any more: the loop ended


def test_a_call_of_a_tool_not_offered_is_an_error_the_model_reads(
    scripted_session, tiny_gguf
) -> None:
    session = loaded(
        scripted_session,
        tiny_gguf,
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[hermes_call("browse", url="x"), "Sorry."],
    )
    turn = answer_with_tools(
        session,
        ChatRequest(QUESTION, tools=(RUN_PYTHON,)),
        lambda call: "run",
        lambda call, how: pytest.fail("not run"),
    )
    assert "There is no tool named 'browse'" in prompts_of(turn)[1]


def test_the_search_tool_cites_passages_of_the_quiz_articles(scripted_session, tiny_gguf) -> None:
    session = loaded(
        scripted_session,
        tiny_gguf,
        chat_template=HERMES_TOOLS_TEMPLATE,
        replies=[
            hermes_call(SEARCH, query="Velmora population census"),
            "About it [velmora:2].",
        ],
    )
    kit = ToolKit((SEARCH,))
    turn = answer_with_tools(
        session,
        ChatRequest(QUESTION, tools=(SEARCH,)),
        lambda call: pytest.fail("a search needs no approval"),
        lambda call, how: run_call(call, kit, approval=how),
    )
    hits = turn.outcomes[0].record["hits"]
    assert hits and all(h["id"].startswith("velmora:") for h in hits[:2])
    assert f"[{hits[0]['id']}]" in prompts_of(turn)[1]  # the model reads the ids it may cite

"""A question answered with tools, start to end, synchronously: ask, read the reply, let
`decide` approve each call that needs it, `execute` it, give the results back, ask again —
until a reply calls nothing (desktop/core/tools/tool_loop.py bounds the rounds). Qt-free:
the tests drive it with the scripted backend and the real sandbox; the Chat tab follows
the same rules step by step, with buttons instead of `decide`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from desktop.core.api.tool_calls import ToolCall
from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.chat.generation import ChatMessage
from desktop.core.tools.tool_format import read_reply
from desktop.core.tools.tool_loop import needs_approval
from desktop.core.tools.tool_results import ToolOutcome, refused_outcome, unknown_tool
from desktop.engine.chat_turn import ask
from desktop.engine.host_session import HostSession

Decision = Literal["run", "refuse", "always"]
Decide = Callable[[ToolCall], Decision]
Execute = Callable[[ToolCall, str], ToolOutcome]  # the call, how it was approved


@dataclass
class ToolTurn:
    messages: list[ChatMessage] = field(default_factory=list)  # what the turn added
    replies: list[ChatReply] = field(default_factory=list)
    outcomes: list[ToolOutcome] = field(default_factory=list)
    always_allowed: bool = False

    @property
    def answer(self) -> str:
        return self.messages[-1].content if self.messages else ""


def answer_with_tools(session: HostSession, request: ChatRequest, decide: Decide,
                      execute: Execute, *, always_allowed: bool = False) -> ToolTurn:  # fmt: skip
    turn = ToolTurn(always_allowed=always_allowed)
    history = list(request.messages)
    while True:
        reply = ask(session, replace(request, messages=tuple(history)))
        turn.replies.append(reply)
        fitted = reply.prompt
        read = read_reply(reply.text, fitted.tool_format if fitted else None,
                          fitted.tools if fitted else ())  # fmt: skip
        message = ChatMessage("assistant", read.content, tool_calls=read.calls)
        history.append(message)
        turn.messages.append(message)
        if not read.calls:
            return turn
        offered = fitted.tools if fitted else ()
        for call in read.calls:
            outcome = _carry_out(call, offered, turn, decide, execute)
            turn.outcomes.append(outcome)
            result = ChatMessage("tool", outcome.text, tool_call_id=call.id, name=call.name)
            history.append(result)
            turn.messages.append(result)


def _carry_out(call: ToolCall, offered: tuple[str, ...], turn: ToolTurn, decide: Decide,
               execute: Execute) -> ToolOutcome:  # fmt: skip
    if call.name not in offered:
        return unknown_tool(call, offered)
    if not needs_approval(call, turn.always_allowed):
        return execute(call, "always" if turn.always_allowed else "not needed")
    decision = decide(call)
    if decision == "refuse":
        return refused_outcome(call)
    if decision == "always":
        turn.always_allowed = True
    return execute(call, "always" if decision == "always" else "asked")

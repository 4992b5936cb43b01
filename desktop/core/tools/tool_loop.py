"""The tool loop's decisions, without I/O: when a reply's calls need the person's approval,
how many rounds a question may use, what the model is told when a call is not run. The
Chat tab (asynchronously, with buttons) and `desktop/engine/tool_turn.py` (synchronously,
for tests and the command line) both follow these rules.

One round is one reply that asked for tools. After MAX_ROUNDS rounds for one question the
next request offers no tools, so the model has to answer with what it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from desktop.core.api.tool_calls import ToolCall
from desktop.core.chat.generation import ChatMessage
from desktop.core.tools.tool_results import NOT_RUN
from desktop.core.tools.tool_specs import RUN_PYTHON

MAX_ROUNDS = 4
Decision = Literal["run", "refuse"]


def needs_approval(call: ToolCall, always_allowed: bool) -> bool:
    """Code runs only after the person says so (or chose "always allow" for this
    conversation); a search reads local text and changes nothing, so it just runs."""
    return call.name == RUN_PYTHON and not always_allowed


def rounds_used(messages: Sequence[ChatMessage]) -> int:
    """Replies that asked for tools since the person's last message."""
    rounds = 0
    for message in reversed(messages):
        if message.role == "user":
            break
        if message.role == "assistant" and message.tool_calls:
            rounds += 1
    return rounds


def tools_left(messages: Sequence[ChatMessage], offered: tuple[str, ...],
               max_rounds: int = MAX_ROUNDS) -> tuple[str, ...]:  # fmt: skip
    """The tools the next request may offer: none once the rounds are used up."""
    return offered if rounds_used(messages) < max_rounds else ()


def with_missing_results(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Every call followed by a result: a call that was never answered (the app closed
    while it waited for approval) gets "not run", since templates and servers expect one."""
    completed: list[ChatMessage] = []
    pending: list[ToolCall] = []
    for message in messages:
        if message.role == "tool":
            pending = [c for c in pending if c.id != message.tool_call_id]
        elif pending:
            completed += [ChatMessage("tool", NOT_RUN, tool_call_id=c.id, name=c.name)
                          for c in pending]  # fmt: skip
            pending = []
        completed.append(message)
        if message.tool_calls:
            pending = list(message.tool_calls)
    return completed

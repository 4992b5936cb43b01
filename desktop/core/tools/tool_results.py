"""What a tool call gave: the text the model reads back (bounded: a program may print 64 KB,
which would crowd out the conversation), and the record the transcript keeps and shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from desktop.core.api.tool_calls import ToolCall
from desktop.core.sandbox.result import SandboxResult
from desktop.core.tools.tool_specs import RUN_PYTHON

MAX_RESULT_CHARS = 4000  # what goes back to the model; the transcript keeps it all
REFUSED = "The user did not allow running this code."
NOT_RUN = "The code was not run (the conversation was closed before it was approved)."
ToolStatus = Literal["ran", "failed", "refused", "not run"]


@dataclass(frozen=True)
class ToolOutcome:
    """One call's result. `text` goes to the model as the tool message; `record` is what the
    transcript stores (a sandbox result, or a search's passages) to show it again."""

    call_id: str
    name: str
    status: ToolStatus
    text: str
    record: dict[str, Any] = field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "name": self.name, "status": self.status,
                "record": self.record}  # fmt: skip


def bounded(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """The start and the end of a long text (an error is at the end), with a note."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-(limit // 3) :]
    return f"{head}\n[… {len(text) - len(head) - len(tail):,} characters left out …]\n{tail}"


def program_output(result: SandboxResult) -> str:
    """What a run gives back to the model: its output, and the error sentence if any."""
    parts = []
    if result.stdout:
        parts.append(result.stdout.rstrip("\n"))
    if result.stderr and not result.ok:
        parts.append(result.stderr.rstrip("\n"))
    if result.error:
        label = "The sandbox could not run it" if result.sandbox_failed else "Error"
        parts.append(f"{label}: {result.error}")
    if not parts:
        parts.append("(The program ran and printed nothing. Use print() to show a result.)")
    return bounded("\n".join(parts))


def python_outcome(call: ToolCall, result: SandboxResult, approval: str) -> ToolOutcome:
    record = {"result": result.to_json(), "approval": approval}
    status: ToolStatus = "ran" if result.ok else "failed"
    return ToolOutcome(call.id, call.name, status, program_output(result), record)


def refused_outcome(call: ToolCall) -> ToolOutcome:
    return ToolOutcome(call.id, call.name, "refused", REFUSED, {"approval": "refused"})


def not_run_outcome(call: ToolCall) -> ToolOutcome:
    return ToolOutcome(call.id, call.name, "not run", NOT_RUN)


def failed_outcome(call: ToolCall, sentence: str) -> ToolOutcome:
    """A call the app could not carry out (an unknown tool, no code, a search that
    failed): the sentence goes back to the model so it can try otherwise."""
    return ToolOutcome(call.id, call.name, "failed", sentence, {"error": sentence})


def unknown_tool(call: ToolCall, offered: tuple[str, ...]) -> ToolOutcome:
    names = ", ".join(offered) or "none"
    return failed_outcome(call, f"There is no tool named {call.name!r}; the tools are: {names}.")


def is_python(call: ToolCall) -> bool:
    return call.name == RUN_PYTHON

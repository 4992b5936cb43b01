"""How a model asks for a tool, in one of two forms, and how the conversation is written
back to it in the same form.

* **template**: the model's chat template takes `tools` (it writes them into the prompt
  its own way, as Qwen, Hermes and Llama 3.x templates do), and the model answers with
  its trained call format: `<tool_call>{json}</tool_call>` or Llama 3.x's JSON reply
  (parsed by desktop/core/api/tool_calls.py). Calls and results go to the template as
  `tool_calls` and `tool` messages.
* **fenced**: any other model (a template without tools, the base-model prompt, a remote
  server's chat). A short instruction in the system message asks for a fenced
  ```python block (or ```search); results come back as a user turn. This works with any
  model that has seen Markdown, which is every model.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from desktop.core.api.tool_calls import ToolCall, parse_tool_calls
from desktop.core.chat.generation import ChatMessage
from desktop.core.tools.tool_specs import RUN_PYTHON, SEARCH, argument_text

ToolFormat = Literal["template", "fenced"]
FENCE_LANGUAGES = {"python": RUN_PYTHON, "py": RUN_PYTHON, "python3": RUN_PYTHON,
                   "search": SEARCH}  # fmt: skip
_FENCED = re.compile(r"```[ \t]*(python3?|py|search)[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)


@dataclass(frozen=True)
class ReadReply:
    """A finished reply, read: the text around the calls, and the calls (none: an answer)."""

    content: str
    calls: tuple[ToolCall, ...]
    format: ToolFormat | None


def new_call_id() -> str:
    return f"call_{secrets.token_hex(8)}"


def fenced_instruction(tools: Sequence[str]) -> str:
    """The few lines that teach the fenced form, for the tools on offer."""
    lines = []
    if RUN_PYTHON in tools:
        lines.append(
            "You can run Python code. To run a program, write it in a fenced block and "
            "stop:\n```python\nprint(len('hello'))\n```\nThe program runs (standard library "
            "only, no network) and what it prints is given back to you; then finish your "
            "answer. Use print() to show results."
        )
    if SEARCH in tools:
        lines.append(
            "You can search the user's documents. Write the query in a fenced block and "
            "stop:\n```search\nwhen was the Eiffel Tower built\n```\nThe best passages come "
            "back with ids such as [eiffel_tower:2]; cite the ids you use."
        )
    return "\n\n".join(lines)


def read_reply(text: str, format: ToolFormat | None, offered: Sequence[str]) -> ReadReply:
    """The calls in a reply, in the form that was asked for (none if no tool was offered).
    In the fenced form only the first block counts: what a model writes after it (often
    an invented output) is not the program's and is dropped from what goes back."""
    if format is None or not offered:
        return ReadReply(text, (), None)
    if format == "template":
        content, calls = parse_tool_calls(text)
        return ReadReply(content, tuple(calls), format) if calls else ReadReply(text, (), None)
    for match in _FENCED.finditer(text):
        name = FENCE_LANGUAGES[match.group(1)]
        if name not in offered:
            continue
        body = match.group(2).strip("\n")
        if not body.strip():
            continue
        key = "code" if name == RUN_PYTHON else "query"
        arguments = json.dumps({key: body if name == RUN_PYTHON else body.strip()},
                               ensure_ascii=False)  # fmt: skip
        call = ToolCall(name, arguments, new_call_id())
        return ReadReply(text[: match.start()].rstrip(), (call,), format)
    return ReadReply(text, (), None)


def fenced_call(call: ToolCall) -> str:
    """A call written back in the fenced form."""
    language = "python" if call.name == RUN_PYTHON else call.name
    return f"```{language}\n{argument_text(call) or call.arguments}\n```"


def result_turn_text(message: ChatMessage) -> str:
    """A tool result written back as a user turn (the fenced form)."""
    what = "Output of the program" if message.name == RUN_PYTHON else f"Result of {message.name}"
    return f"{what}:\n```\n{message.content}\n```"


def as_plain_turns(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The conversation with its tool calls and results written as ordinary text: for
    prompts without the template's tool support (and for remote servers, which are sent
    plain messages)."""
    plain: list[ChatMessage] = []
    for message in messages:
        if message.tool_calls:
            blocks = "\n\n".join(fenced_call(c) for c in message.tool_calls)
            text = f"{message.content}\n\n{blocks}" if message.content.strip() else blocks
            plain.append(ChatMessage("assistant", text))
        elif message.role == "tool":
            plain.append(ChatMessage("user", result_turn_text(message)))
        else:
            plain.append(message)
    return plain


def with_instruction(
    messages: Sequence[ChatMessage], instruction: str, identity: str = ""
) -> list[ChatMessage]:
    """The instruction added to the system message (made from `identity` when there is
    none: the base-model prompt's identity line is replaced by a system message)."""
    if not instruction:
        return list(messages)
    if messages and messages[0].role == "system":
        first = messages[0]
        return [ChatMessage("system", f"{first.content.rstrip()}\n\n{instruction}"),
                *messages[1:]]  # fmt: skip
    lead = f"{identity.rstrip()}\n\n{instruction}" if identity.strip() else instruction
    return [ChatMessage("system", lead), *messages]

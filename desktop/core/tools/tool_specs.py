"""The tools the Chat tab offers a model, as OpenAI function schemas (what a chat
template's `tools` variable expects), and how a call's arguments are read back.

The descriptions are written for the model: they are all it knows about the tool."""

from __future__ import annotations

import json
from typing import Any

from desktop.core.api.tool_calls import ToolCall

RUN_PYTHON = "run_python"
SEARCH = "search"
TOOL_NAMES: tuple[str, ...] = (RUN_PYTHON, SEARCH)

_SCHEMAS: dict[str, dict[str, Any]] = {
    RUN_PYTHON: {
        "type": "function",
        "function": {
            "name": RUN_PYTHON,
            "description": (
                "Run a Python 3.12 program and get back what it prints. Use it to count, "
                "calculate or check anything exactly. Only the standard library; no network; "
                "a few seconds of CPU. Print the result with print()."
            ),
            "parameters": {
                "type": "object",
                "properties": {"code": {"type": "string", "description": "The whole program."}},
                "required": ["code"],
            },
        },
    },
    SEARCH: {
        "type": "function",
        "function": {
            "name": SEARCH,
            "description": (
                "Search the user's local documents and articles. Returns the most relevant "
                "passages, each with an id such as [velmora:3]; cite the ids you use."
            ),
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string", "description": "What to look for."}},
                "required": ["query"],
            },
        },
    },
}


def tool_schemas(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The schemas of the offered tools, in a fixed order."""
    return [_SCHEMAS[name] for name in TOOL_NAMES if name in names]


def call_arguments(call: ToolCall) -> dict[str, Any]:
    """The call's arguments as an object; text that is not a JSON object (a model that
    wrote the code itself as the arguments) becomes the tool's one parameter."""
    try:
        data = json.loads(call.arguments)
    except ValueError:
        data = call.arguments
    if isinstance(data, dict):
        return data
    key = "code" if call.name == RUN_PYTHON else "query"
    return {key: data if isinstance(data, str) else call.arguments}


def argument_text(call: ToolCall) -> str:
    """The code of a run_python call, the query of a search ("" when missing)."""
    key = "code" if call.name == RUN_PYTHON else "query"
    value = call_arguments(call).get(key, "")
    return value if isinstance(value, str) else json.dumps(value)

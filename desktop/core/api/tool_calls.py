"""Tool calls in a model's own words, found and turned into OpenAI's `tool_calls`.

Two formats are recognised, the ones open models are trained on:
* Hermes / Qwen: `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, any number of
  them, with ordinary text around;
* Llama 3.x: the whole reply is one JSON object `{"name": …, "parameters": {…}}` (or a
  list of them), possibly after `<|python_tag|>`.

A reply in any other shape is plain content. While a reply streams, `ToolCallHoldback`
holds back text that may be the start of a call, so a call never streams as content.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

OPEN, CLOSE = "<tool_call>", "</tool_call>"
PYTHON_TAG = "<|python_tag|>"
_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str  # JSON text, as OpenAI sends it
    id: str = ""


def _call(data: Any) -> ToolCall | None:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    arguments = data.get("arguments", data.get("parameters", {}))
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return ToolCall(data["name"], text, f"call_{secrets.token_hex(8)}")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def parse_tool_calls(text: str) -> tuple[str, list[ToolCall]]:
    """The content left once the calls are taken out, and the calls (none: the text as is)."""
    if OPEN in text:
        calls = [_call(_json(m.group(1))) for m in _HERMES.finditer(text)]
        if calls and all(c is not None for c in calls):
            content = _HERMES.sub("", text).strip()
            return content, [c for c in calls if c is not None]
        return text, []
    body = text.strip().removeprefix(PYTHON_TAG).strip()
    if body[:1] in ("{", "["):
        data = _json(body)
        items = data if isinstance(data, list) else [data]
        calls = [_call(item) for item in items]
        if calls and all(c is not None for c in calls):
            return "", [c for c in calls if c is not None]
    return text, []


class ToolCallHoldback:
    """Streams content, but not what may be a tool call: from `<tool_call>` on (or a
    partial `<tool_c` at the end, until it is known), and a whole reply that starts like a
    Llama JSON call. `release(text)` says how much of the text so far may be sent."""

    def __init__(self) -> None:
        self.released = 0

    def release(self, text: str) -> int:
        """How many characters of `text` (all the reply so far) are safe to send now."""
        stripped = text.lstrip()
        if not stripped:
            return self.released
        if stripped[0] in "{[" or stripped.startswith(PYTHON_TAG[: len(stripped)]):
            return self.released  # maybe a Llama-style call: decided at the end
        start = text.find(OPEN, self.released)
        if start < 0:
            start = len(text)
            for size in range(min(len(OPEN) - 1, len(text)), 0, -1):
                if text.endswith(OPEN[:size]):
                    start = len(text) - size
                    break
        self.released = max(self.released, start)
        return self.released

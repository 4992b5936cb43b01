"""Answers in the OpenAI API's shapes: ids, `created`, `model`, `choices`, `usage`,
`finish_reason`, and logprobs (chat's `content` with `top_logprobs`; /completions'
legacy lists) made from the app's TokenEvents."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Sequence
from typing import Any

from desktop.core.api.tool_calls import ToolCall
from desktop.core.chat.generation import StopReason, TokenEvent

OWNER = "deepdive-lab"


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


def now() -> int:
    return int(time.time())


def finish_reason(stop_reason: StopReason, tool_calls: bool = False) -> str:
    if tool_calls:
        return "tool_calls"
    return "length" if stop_reason in ("length", "context") else "stop"


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def models_list(model_ids: Sequence[str], created: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": m, "object": "model", "created": created, "owned_by": OWNER} for m in model_ids
        ],
    }


def _logprob(prob: float) -> float:
    return math.log(prob) if prob > 0 else -9999.0  # OpenAI's floor for "impossible"


def token_logprob(event: TokenEvent, top: int) -> dict[str, Any]:
    """One entry of chat's `logprobs.content`."""
    return {
        "token": event.text,
        "logprob": _logprob(event.prob),
        "bytes": list(event.text.encode("utf-8")),
        "top_logprobs": [
            {"token": a.text, "logprob": _logprob(a.prob), "bytes": list(a.text.encode("utf-8"))}
            for a in event.alternatives[:top]
        ],
    }


def chat_logprobs(events: Sequence[TokenEvent], top: int) -> dict[str, Any]:
    return {"content": [token_logprob(e, top) for e in events], "refusal": None}


def legacy_logprobs(events: Sequence[TokenEvent], top: int, offset: int = 0) -> dict[str, Any]:
    """/v1/completions' logprobs: parallel lists, `top_logprobs` as {token: logprob}."""
    offsets, position = [], offset
    for e in events:
        offsets.append(position)
        position += len(e.text)
    return {
        "tokens": [e.text for e in events],
        "token_logprobs": [_logprob(e.prob) for e in events],
        "top_logprobs": [{a.text: _logprob(a.prob) for a in e.alternatives[:top]} for e in events],
        "text_offset": offsets,
    }


def tool_calls_json(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in calls
    ]


def chat_completion(
    cid: str, created: int, model: str, content: str, reason: str,
    prompt_tokens: int, completion_tokens: int, *,
    logprobs: dict[str, Any] | None = None, tool_calls: Sequence[ToolCall] = (),
) -> dict[str, Any]:  # fmt: skip
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if tool_calls:
        message["tool_calls"] = tool_calls_json(tool_calls)
    elif not content:
        message["content"] = ""
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": logprobs, "finish_reason": reason}
        ],
        "usage": usage(prompt_tokens, completion_tokens),
    }


def chat_chunk(
    cid: str, created: int, model: str, delta: dict[str, Any], *,
    reason: str | None = None, logprobs: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": reason}],
    }


def usage_chunk(cid: str, created: int, model: str, kind: str,
                prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:  # fmt: skip
    """The last event when `stream_options.include_usage` is set: no choices, the usage."""
    return {
        "id": cid,
        "object": kind,
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage(prompt_tokens, completion_tokens),
    }


def text_completion(
    cid: str, created: int, model: str, text: str, reason: str | None,
    logprobs: dict[str, Any] | None, prompt_tokens: int | None = None,
    completion_tokens: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """A /v1/completions answer, or (prompt_tokens None) one of its streamed events."""
    body: dict[str, Any] = {
        "id": cid,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": reason}],
    }
    if prompt_tokens is not None:
        body["usage"] = usage(prompt_tokens, completion_tokens)
    return body

"""Requests to the app's API server, read and checked: what OpenAI's API accepts for
/v1/chat/completions and /v1/completions, as plain values the engine can run. A request
the server cannot honour is refused with an OpenAI-shaped error that says why."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from desktop.core.chat.generation import SamplingSettings

MAX_TOP_LOGPROBS = 20
ROLES = {"system", "developer", "user", "assistant", "tool"}


class ApiError(Exception):
    """An error answer: HTTP status, and OpenAI's error object fields."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str | None = None, kind: str = "invalid_request_error") -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.param, self.code, self.kind = status, param, code, kind

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": str(self),
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }


@dataclass(frozen=True)
class Common:
    """What both endpoints share."""

    model: str
    sampling: SamplingSettings
    max_tokens: int | None  # None: what the context leaves
    stop: tuple[str, ...]
    stream: bool
    include_usage: bool


@dataclass(frozen=True)
class ChatCall:
    common: Common
    messages: tuple[dict[str, Any], ...]  # as a chat template reads them
    logprobs: bool
    top_logprobs: int
    tools: tuple[dict[str, Any], ...]  # () when none were given or tool_choice is "none"


@dataclass(frozen=True)
class CompletionCall:
    common: Common
    prompt: str
    logprobs: int  # 0: none; else that many alternatives per token (legacy format)


def _number(body: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be a number from {low:g} to {high:g}.", param=name)
    return float(value)


def _integer(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be a whole number from {low} to {high}.", param=name)
    return value


def _common(body: dict[str, Any]) -> Common:
    if (_integer(body, "n", 1, 128) or 1) != 1:
        raise ApiError(400, "This server makes one choice per request ('n' must be 1).", param="n")
    max_tokens = _integer(body, "max_completion_tokens", 1, 1 << 30)
    if max_tokens is None:
        max_tokens = _integer(body, "max_tokens", 1, 1 << 30)
    seed = _integer(body, "seed", -(1 << 63), (1 << 64) - 1)
    # OpenAI's defaults for its own fields; llama.cpp's extensions off unless asked for.
    sampling = SamplingSettings(
        temperature=_number(body, "temperature", 1.0, 0.0, 2.0),
        top_p=_number(body, "top_p", 1.0, 0.0, 1.0),
        top_k=_integer(body, "top_k", 0, 1 << 20) or 0,
        min_p=_number(body, "min_p", 0.0, 0.0, 1.0),
        repeat_penalty=_number(body, "repeat_penalty", 1.0, 0.0, 10.0),
        max_tokens=max_tokens or 0,
        seed=seed % (1 << 31) if seed is not None else -1,
    )
    stop = body.get("stop")
    if stop is None:
        stops: tuple[str, ...] = ()
    elif isinstance(stop, str):
        stops = (stop,) if stop else ()
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        stops = tuple(s for s in stop if s)
    else:
        raise ApiError(400, "'stop' must be a string or a list of strings.", param="stop")
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    return Common(
        str(body.get("model") or ""),
        sampling,
        max_tokens,
        stops,
        bool(body.get("stream")),
        include_usage,
    )


def _text(content: Any, where: str) -> str:
    """Message content: a string, or a list of parts of which only text is understood."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise ApiError(
                    400,
                    f"{where}: this server understands text only, not '{kind}' parts.",
                    param="messages",
                )
        return "".join(texts)
    raise ApiError(
        400, f"{where}: 'content' must be a string or a list of parts.", param="messages"
    )


def _tool_call(call: Any, where: str) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not function.get("name"):
        raise ApiError(400, f"{where}: each tool call needs a function name.", param="messages")
    arguments: Any = function.get("arguments") or "{}"
    if isinstance(arguments, str):
        # Templates (Hugging Face's convention, llama.cpp's too) expect an object here.
        with contextlib.suppress(ValueError):
            arguments = json.loads(arguments)
    return {
        "id": str(call.get("id") or ""),
        "type": "function",
        "function": {"name": str(function["name"]), "arguments": arguments},
    }


def _message(raw: Any, index: int) -> dict[str, Any]:
    where = f"messages[{index}]"
    if not isinstance(raw, dict) or raw.get("role") not in ROLES:
        raise ApiError(
            400, f"{where} needs a 'role' of system, user, assistant or tool.", param="messages"
        )
    role = "system" if raw["role"] == "developer" else str(raw["role"])
    message: dict[str, Any] = {"role": role, "content": _text(raw.get("content"), where)}
    if role == "assistant" and raw.get("tool_calls"):
        if not isinstance(raw["tool_calls"], list):
            raise ApiError(400, f"{where}: 'tool_calls' must be a list.", param="messages")
        message["tool_calls"] = [_tool_call(c, where) for c in raw["tool_calls"]]
    if role == "tool":
        message["tool_call_id"] = str(raw.get("tool_call_id") or "")
    if raw.get("name"):
        message["name"] = str(raw["name"])
    return message


def _tools(body: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    tools = body.get("tools")
    if not tools or body.get("tool_choice") == "none":
        return ()
    if not isinstance(tools, list) or not all(
        isinstance(t, dict) and isinstance(t.get("function"), dict) and t["function"].get("name")
        for t in tools
    ):
        raise ApiError(
            400,
            "'tools' must be a list of {type: function, function: {name, "
            "description, parameters}}.",
            param="tools",
        )
    return tuple(tools)


def chat_call(body: Any) -> ChatCall:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list.", param="messages")
    logprobs = bool(body.get("logprobs"))
    top = _integer(body, "top_logprobs", 0, MAX_TOP_LOGPROBS) or 0
    if top and not logprobs:
        raise ApiError(400, "'top_logprobs' needs 'logprobs': true.", param="top_logprobs")
    return ChatCall(
        _common(body),
        tuple(_message(m, i) for i, m in enumerate(messages)),
        logprobs,
        top,
        _tools(body),
    )


def completion_call(body: Any) -> CompletionCall:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise ApiError(400, "'prompt' must be a string (one prompt per request).", param="prompt")
    if body.get("echo"):
        raise ApiError(400, "'echo' is not supported by this server.", param="echo")
    logprobs = _integer(body, "logprobs", 0, MAX_TOP_LOGPROBS) or 0
    return CompletionCall(_common(body), prompt, logprobs)

"""Between the app's requests and an OpenAI-compatible server's: the request bodies
(chat messages, or a prompt for /completions), and each streamed event turned into the
app's TokenEvents - with the token's probability and its alternatives where the server
returns logprobs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from desktop.core.chat.generation import (
    ChatMessage,
    GenerationRequest,
    StopReason,
    TokenAlternative,
    TokenEvent,
)

MAX_STOPS = 4  # the OpenAI API takes at most four; the rest are applied here
MAX_TOP_LOGPROBS_CHAT = 20
MAX_LOGPROBS_COMPLETIONS = 5
UNKNOWN_TOKEN_ID = -1  # a server does not say which id a token has

FINISH_REASONS: dict[str, StopReason] = {
    "stop": "eos",  # its end token or one of our stops: the server does not say which
    "eos": "eos",
    "length": "length",
    "tool_calls": "eos",
    "function_call": "eos",
    "content_filter": "stop",
}


def sampling_fields(request: GenerationRequest) -> dict[str, Any]:
    """The standard OpenAI sampling fields. top-k, min-p and the repeat penalty have no
    standard field (and OpenAI itself refuses unknown ones), so they stay local."""
    s = request.sampling
    body: dict[str, Any] = {
        "max_tokens": s.max_tokens,
        "temperature": s.temperature,
        "top_p": s.top_p,
        "stream_options": {"include_usage": True},
    }
    if s.seed >= 0:
        body["seed"] = s.seed
    if request.stop:
        body["stop"] = list(request.stop[:MAX_STOPS])
    return body


def chat_body(model: str, request: GenerationRequest) -> dict[str, Any]:
    body = {
        "model": model,
        "messages": [message_json(m) for m in request.messages],
        **sampling_fields(request),
    }
    if request.top_alternatives > 0:
        body["logprobs"] = True
        body["top_logprobs"] = min(request.top_alternatives, MAX_TOP_LOGPROBS_CHAT)
    return body


def completion_body(model: str, request: GenerationRequest) -> dict[str, Any]:
    body = {"model": model, "prompt": request.prompt, **sampling_fields(request)}
    if request.top_alternatives > 0:
        body["logprobs"] = min(request.top_alternatives, MAX_LOGPROBS_COMPLETIONS)
    return body


def message_json(message: ChatMessage) -> dict[str, str]:
    return {"role": message.role, "content": message.content}


def messages_text(messages: Sequence[ChatMessage]) -> str:
    """The messages as a person reads them in "View prompt": what is sent, role by role."""
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in messages)


def _prob(logprob: Any) -> float:
    try:
        return math.exp(float(logprob))
    except (TypeError, ValueError, OverflowError):
        return 0.0


def _alternatives(top: Any) -> tuple[TokenAlternative, ...]:
    """Chat's [{token, logprob}] or /completions' {token: logprob}, likeliest first."""
    if isinstance(top, dict):
        pairs = list(top.items())
    elif isinstance(top, list):
        pairs = [(t.get("token", ""), t.get("logprob")) for t in top if isinstance(t, dict)]
    else:
        return ()
    alternatives = [TokenAlternative(str(text), _prob(lp)) for text, lp in pairs]
    return tuple(sorted(alternatives, key=lambda a: -a.prob))


class ChunkReader:
    """Reads a stream's events; remembers the finish reason and the server's token counts.

    Reasoning that a server streams apart (`reasoning_content`, `reasoning`) is wrapped in
    <think>…</think>, which is how the Chat tab knows reasoning from an answer.
    """

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self._thinking = False

    @property
    def stop_reason(self) -> StopReason:
        return FINISH_REASONS.get(self.finish_reason or "", "eos")

    def read(self, event: dict[str, Any]) -> list[TokenEvent]:
        usage = event.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = _int_or(usage.get("prompt_tokens"), self.prompt_tokens)
            self.completion_tokens = _int_or(usage.get("completion_tokens"), self.completion_tokens)
        choices = event.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            return []
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        if "delta" in choice:
            return self._chat(choice)
        return self._completion(choice)

    def close(self) -> list[TokenEvent]:
        if self._thinking:
            self._thinking = False
            return [TokenEvent("</think>", UNKNOWN_TOKEN_ID)]
        return []

    def _chat(self, choice: dict[str, Any]) -> list[TokenEvent]:
        delta = choice.get("delta") or {}
        out: list[TokenEvent] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            if not self._thinking:
                self._thinking = True
                out.append(TokenEvent("<think>", UNKNOWN_TOKEN_ID))
            out.append(TokenEvent(reasoning, UNKNOWN_TOKEN_ID))
        content = delta.get("content")
        if isinstance(content, str) and content:
            out += self.close()
            logprobs = choice.get("logprobs") or {}
            entries = logprobs.get("content") if isinstance(logprobs, dict) else None
            out += _with_logprobs(
                content,
                [
                    (str(e.get("token", "")), e.get("logprob"), e.get("top_logprobs"))
                    for e in entries or []
                    if isinstance(e, dict)
                ],
            )
        return out

    def _completion(self, choice: dict[str, Any]) -> list[TokenEvent]:
        text = choice.get("text")
        if not isinstance(text, str) or not text:
            return []
        logprobs = choice.get("logprobs") or {}
        tokens = logprobs.get("tokens") or [] if isinstance(logprobs, dict) else []
        lps = logprobs.get("token_logprobs") or [] if isinstance(logprobs, dict) else []
        tops = logprobs.get("top_logprobs") or [] if isinstance(logprobs, dict) else []
        entries = [
            (str(t), lps[i] if i < len(lps) else None, tops[i] if i < len(tops) else None)
            for i, t in enumerate(tokens)
        ]
        return _with_logprobs(text, entries)


def _with_logprobs(text: str, entries: list[tuple[str, Any, Any]]) -> list[TokenEvent]:
    """One event per token when the logprobs' tokens spell the text exactly; otherwise
    (no logprobs, or tokens that are byte fragments) the text as one event."""
    if entries and "".join(token for token, _lp, _top in entries) == text:
        return [
            TokenEvent(token, UNKNOWN_TOKEN_ID, _prob(lp), _alternatives(top))
            for token, lp, top in entries
        ]
    if entries:
        _token, lp, top = entries[0]
        return [TokenEvent(text, UNKNOWN_TOKEN_ID, _prob(lp), _alternatives(top))]
    return [TokenEvent(text, UNKNOWN_TOKEN_ID)]


def _int_or(value: Any, default: int | None) -> int | None:
    return value if isinstance(value, int) else default

"""A request's job events turned into OpenAI's answers: streamed events (one per token,
with its logprobs) or one JSON body at the end. Tool calls are held back while streaming
(ToolCallHoldback) and sent as `tool_calls` once the reply is complete."""

from __future__ import annotations

from typing import Any

from desktop.core.api import api_responses as shapes
from desktop.core.api.api_requests import ChatCall, CompletionCall
from desktop.core.api.tool_calls import ToolCall, ToolCallHoldback, parse_tool_calls
from desktop.core.chat.generation import TokenEvent
from desktop.engine.api_server.jobs import Done


class ChatAnswer:
    def __init__(self, call: ChatCall, model: str) -> None:
        self.call, self.model = call, model
        self.id, self.created = shapes.new_id("chatcmpl"), shapes.now()
        self.events: list[TokenEvent] = []
        self.text = ""
        self._sent_events = 0
        self._sent_chars = 0
        self._holdback = ToolCallHoldback() if call.tools else None

    def _chunk(self, delta: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return shapes.chat_chunk(self.id, self.created, self.model, delta, **kw)

    def start(self) -> list[dict[str, Any]]:
        return [self._chunk({"role": "assistant", "content": ""})]

    def add(self, events: tuple[TokenEvent, ...]) -> list[dict[str, Any]]:
        self.events.extend(events)
        self.text += "".join(e.text for e in events)
        allowed = self._holdback.release(self.text) if self._holdback else len(self.text)
        return self._release(allowed)

    def _release(self, allowed: int) -> list[dict[str, Any]]:
        out = []
        while self._sent_events < len(self.events):
            event = self.events[self._sent_events]
            if self._sent_chars + len(event.text) > allowed:
                break
            self._sent_events += 1
            self._sent_chars += len(event.text)
            logprobs = (
                shapes.chat_logprobs([event], self.call.top_logprobs)
                if self.call.logprobs
                else None
            )
            if event.text or logprobs:
                out.append(self._chunk({"content": event.text}, logprobs=logprobs))
        return out

    def _calls(self) -> tuple[str, list[ToolCall]]:
        """Content not yet sent and the tool calls, once the reply is complete."""
        rest = self.text[self._sent_chars :]
        if self._holdback is None:
            return rest, []
        return parse_tool_calls(rest)

    def finish(self, done: Done) -> list[dict[str, Any]]:
        rest, calls = self._calls()
        out = []
        if not calls:
            out += self._release(len(self.text))
        elif rest:
            out.append(self._chunk({"content": rest}))
        if calls:
            out.append(
                self._chunk(
                    {
                        "tool_calls": [
                            {"index": i, **c} for i, c in enumerate(shapes.tool_calls_json(calls))
                        ]
                    }
                )
            )
        reason = shapes.finish_reason(done.stats.stop_reason, bool(calls))
        out.append(self._chunk({}, reason=reason))
        if self.call.common.include_usage:
            out.append(
                shapes.usage_chunk(
                    self.id,
                    self.created,
                    self.model,
                    "chat.completion.chunk",
                    done.prompt_tokens,
                    done.stats.generated_tokens,
                )
            )
        return out

    def whole(self, done: Done) -> dict[str, Any]:
        content, calls = parse_tool_calls(self.text) if self.call.tools else (self.text, [])
        logprobs = (
            shapes.chat_logprobs(self.events, self.call.top_logprobs)
            if self.call.logprobs
            else None
        )
        return shapes.chat_completion(
            self.id,
            self.created,
            self.model,
            content,
            shapes.finish_reason(done.stats.stop_reason, bool(calls)),
            done.prompt_tokens,
            done.stats.generated_tokens,
            logprobs=logprobs,
            tool_calls=calls,
        )


class CompletionAnswer:
    def __init__(self, call: CompletionCall, model: str) -> None:
        self.call, self.model = call, model
        self.id, self.created = shapes.new_id("cmpl"), shapes.now()
        self.events: list[TokenEvent] = []
        self._offset = 0

    def start(self) -> list[dict[str, Any]]:
        return []

    def add(self, events: tuple[TokenEvent, ...]) -> list[dict[str, Any]]:
        self.events.extend(events)
        out = []
        for event in events:
            logprobs = (
                shapes.legacy_logprobs([event], self.call.logprobs, self._offset)
                if self.call.logprobs
                else None
            )
            self._offset += len(event.text)
            out.append(
                shapes.text_completion(
                    self.id, self.created, self.model, event.text, None, logprobs
                )
            )
        return out

    def finish(self, done: Done) -> list[dict[str, Any]]:
        reason = shapes.finish_reason(done.stats.stop_reason)
        out = [shapes.text_completion(self.id, self.created, self.model, "", reason, None)]
        if self.call.common.include_usage:
            out.append(
                shapes.usage_chunk(
                    self.id,
                    self.created,
                    self.model,
                    "text_completion",
                    done.prompt_tokens,
                    done.stats.generated_tokens,
                )
            )
        return out

    def whole(self, done: Done) -> dict[str, Any]:
        logprobs = (
            shapes.legacy_logprobs(self.events, self.call.logprobs) if self.call.logprobs else None
        )
        return shapes.text_completion(
            self.id,
            self.created,
            self.model,
            "".join(e.text for e in self.events),
            shapes.finish_reason(done.stats.stop_reason),
            logprobs,
            done.prompt_tokens,
            done.stats.generated_tokens,
        )


Answer = ChatAnswer | CompletionAnswer

"""Time to first token and decode speed, measured the same way for every backend."""

from __future__ import annotations

import time

from desktop.core.chat.generation import GenerationStats, StopReason


class StreamTiming:
    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._first: float | None = None
        self._last: float | None = None
        self.tokens = 0

    def token(self) -> None:
        now = time.perf_counter()
        if self._first is None:
            self._first = now
        self._last = now
        self.tokens += 1

    def stats(
        self, request_id: int, prompt_tokens: int, reason: StopReason, text: str
    ) -> GenerationStats:
        ttft = (self._first - self._start) if self._first is not None else 0.0
        # Decode speed excludes the first token, whose time is prompt processing.
        if self._first is not None and self._last is not None and self.tokens > 1:
            rate = (self.tokens - 1) / max(self._last - self._first, 1e-9)
        else:
            rate = 0.0
        return GenerationStats(
            request_id=request_id,
            prompt_tokens=prompt_tokens,
            generated_tokens=self.tokens,
            time_to_first_token_s=ttft,
            tokens_per_s=rate,
            stop_reason=reason,
            text=text,
        )

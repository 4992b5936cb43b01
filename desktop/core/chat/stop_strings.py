"""Stop strings over a token stream.

A stop string can arrive split across tokens ("\\nUs" + "er:"), so text that could be the
start of a stop string is held back until it is known not to be one. Nothing after a stop
string is ever shown.
"""

from __future__ import annotations

from dataclasses import replace

from desktop.core.chat.generation import TokenEvent


class StopStringFilter:
    def __init__(self, stops: tuple[str, ...] | list[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Add generated text; return the part that is safe to show now."""
        if self.stopped:
            return ""
        buffer = self._pending + text
        cut = self._first_stop(buffer)
        if cut is not None:
            self.stopped = True
            self._pending = ""
            return buffer[:cut]
        keep = self._longest_stop_prefix_suffix(buffer)
        self._pending = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """Generation ended without a stop string: release what was held back."""
        text, self._pending = self._pending, ""
        return "" if self.stopped else text

    def _first_stop(self, buffer: str) -> int | None:
        hits = [i for i in (buffer.find(s) for s in self._stops) if i >= 0]
        return min(hits) if hits else None

    def _longest_stop_prefix_suffix(self, buffer: str) -> int:
        """Length of the longest buffer suffix that is a proper prefix of some stop."""
        best = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(buffer)), best, -1):
                if buffer.endswith(stop[:n]):
                    best = n
                    break
        return best


class TokenStopFilter:
    """`StopStringFilter` for token events: a token is released once all of its text is.

    Keeping events whole keeps each token's probability attached to exactly its text.
    """

    def __init__(self, stops: tuple[str, ...] | list[str]) -> None:
        self._filter = StopStringFilter(stops)
        self._pending: list[TokenEvent] = []
        self._released_chars = 0  # released text not yet handed out with an event

    @property
    def stopped(self) -> bool:
        return self._filter.stopped

    def feed(self, event: TokenEvent) -> list[TokenEvent]:
        self._pending.append(event)
        self._released_chars += len(self._filter.feed(event.text))
        if self._filter.stopped:
            return self._drain(truncate=True)
        ready: list[TokenEvent] = []
        while self._pending and len(self._pending[0].text) <= self._released_chars:
            head = self._pending.pop(0)
            self._released_chars -= len(head.text)
            ready.append(head)
        return ready

    def flush(self) -> list[TokenEvent]:
        self._released_chars += len(self._filter.flush())
        return self._drain(truncate=True)

    def _drain(self, *, truncate: bool) -> list[TokenEvent]:
        out: list[TokenEvent] = []
        budget = self._released_chars
        for event in self._pending:
            if budget <= 0:
                break
            text = event.text[:budget] if truncate else event.text
            budget -= len(text)
            out.append(replace(event, text=text))
        self._pending = []
        self._released_chars = 0
        return out

"""The code's stdout and stderr, kept up to the output limit.

Both streams draw on one budget (the limit is on what the code prints, whichever stream
it uses). What fits goes to a sink as it arrives, so a run that is killed still has its
output; the rest is dropped, and the caller stops the code. The last few KB of stderr are
kept apart, so the error line of a traceback is known even after the output was cut.
"""

from __future__ import annotations

import time
from collections.abc import Callable

TAIL_BYTES = 4096


class OutputBudget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.exceeded = False
        self.first_output_at: float | None = None  # time.monotonic()

    def take(self, wanted: int) -> int:
        """How many of `wanted` bytes may be kept; past the limit, `exceeded` is set."""
        if wanted and self.first_output_at is None:
            self.first_output_at = time.monotonic()
        granted = max(0, min(wanted, self.limit - self.used))
        self.used += granted
        if granted < wanted:
            self.exceeded = True
        return granted


class StreamCapture:
    """One stream: `write` is what the guest's writes call (from wasmtime, synchronously)."""

    def __init__(self, budget: OutputBudget, sink: Callable[[bytes], object],
                 keep_tail: bool = False) -> None:  # fmt: skip
        self._budget = budget
        self._sink = sink
        self._keep_tail = keep_tail
        self._tail = b""

    def write(self, data: bytes) -> bool:
        """Keep what fits; False once the budget is spent (the caller stops the code)."""
        if self._keep_tail:
            self._tail = (self._tail + data[-TAIL_BYTES:])[-TAIL_BYTES:]
        granted = self._budget.take(len(data))
        if granted:
            self._sink(data[:granted])
        return not self._budget.exceeded

    @property
    def tail(self) -> str:
        return self._tail.decode("utf-8", "replace")

"""What every long job in core asks its owner - stop? hold? - and where it reports: one
protocol for downloads, training (and the post-training and RL runs built on it), imports.

The engine's `JobControl` (a GUI job) has these methods; `CancelToken` is the Qt-free one
for the command line and tests. A job asks at its own safe points: between a download's
chunks, between training steps and a tokenizer's merges (never inside an optimiser
update).
"""

from __future__ import annotations

import threading
from typing import Protocol


class JobState(Protocol):
    def cancelled(self) -> bool: ...
    def paused(self) -> bool: ...
    def progress(self, done: int, total: int) -> None: ...
    def status(self, text: str) -> None: ...


class CancelToken:
    """Thread-safe flags (set from a signal handler, another thread or a test), and the
    latest progress and status kept for whoever wants to look."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._pause = threading.Event()
        self.latest: tuple[int, int] | None = None
        self.statuses: list[str] = []

    def cancel(self) -> None:
        self._cancel.set()

    def pause(self) -> None:
        self._pause.set()

    def unpause(self) -> None:
        self._pause.clear()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def paused(self) -> bool:
        return self._pause.is_set()

    def progress(self, done: int, total: int) -> None:
        self.latest = (done, total)

    def status(self, text: str) -> None:
        self.statuses.append(text)

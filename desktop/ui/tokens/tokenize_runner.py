"""Tokenize as the user types, without ever blocking the window.

Small text with a loaded tiktoken encoding is tokenized right away in the GUI thread
(well under a millisecond); anything else — large text, a GGUF tokenizer (a round trip
to its host process), a first load — runs as a background job, and so does building
what the view shows. One job at a time: a request made meanwhile waits, and only the
newest waiting one runs next, so typing never queues up stale work and results never
arrive out of order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.core.tokens.display import TokenDisplay
from desktop.core.tokens.tokenized import Tokenized
from desktop.engine.jobs import Jobs
from desktop.engine.tokenizer_pool import TIKTOKEN, TokenizerPool

DEBOUNCE_MS = 120
INLINE_LIMIT = 20_000  # characters tokenized in the GUI thread (tiktoken, already loaded)


@dataclass(frozen=True, eq=False)
class Shown:
    tokenized: Tokenized
    display: TokenDisplay


class TokenizeRunner(QObject):
    finished = Signal(object)  # Shown
    failed = Signal(object)  # the exception: NeedsDownload, SessionError, ValueError, …

    def __init__(self, pool: TokenizerPool) -> None:
        super().__init__()
        self.pool = pool
        self.last: Shown | None = None
        self.jobs = Jobs(self)  # kind: "tokenize", one at a time
        self._pending: Callable[[], Shown] | None = None
        self._inline_ok = False
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._run)

    def request(self, key: str, text: str, *, parse_special: bool = False,
                show_whitespace: bool = False, immediately: bool = False) -> None:  # fmt: skip
        pool = self.pool

        def work() -> Shown:
            tokenized = pool.tokenize(key, text, parse_special=parse_special)
            return Shown(tokenized, tokenized.display(show_whitespace=show_whitespace))

        inline = key.startswith(TIKTOKEN) and len(text) <= INLINE_LIMIT and pool.is_loaded(key)
        self._submit(work, inline, immediately)

    def request_call(self, call: Callable[[], Tokenized], *, show_whitespace: bool = False,
                     immediately: bool = False) -> None:  # fmt: skip
        """Any tokenizing call (e.g. a chat prompt), run the same way, off the GUI thread."""

        def work() -> Shown:
            tokenized = call()
            return Shown(tokenized, tokenized.display(show_whitespace=show_whitespace))

        self._submit(work, False, immediately)

    def redisplay(self, show_whitespace: bool) -> None:
        """The last result again with whitespace shown or not: no new tokenizing."""
        last = self.last
        if last is None:
            return

        def work() -> Shown:
            return Shown(last.tokenized, last.tokenized.display(show_whitespace=show_whitespace))

        self._submit(work, len(last.tokenized.text) <= INLINE_LIMIT, True)

    def _submit(self, work: Callable[[], Shown], inline: bool, immediately: bool) -> None:
        self._pending, self._inline_ok = work, inline
        if immediately:
            self._run()
        else:
            self._timer.start()

    @Slot()
    def _run(self) -> None:
        self._timer.stop()
        if self._pending is None:
            return
        busy = self.jobs.running("tokenize")
        if self._inline_ok and not busy:
            work, self._pending = self._pending, None
            self._deliver(work())  # small and loaded: no thread hop needed
            return
        if busy:
            return  # the running job starts the newest pending request when it ends
        work, self._pending = self._pending, None
        self.jobs.start("tokenize", lambda _c: work(), done=self._on_done, failed=self._on_failed)

    def _deliver(self, shown: Shown) -> None:
        self.last = shown
        self.finished.emit(shown)

    def _on_done(self, shown: Shown) -> None:
        if self._pending is not None:  # out of date already: run the newer request
            self._run()
        else:
            self._deliver(shown)

    def _on_failed(self, exc: BaseException) -> None:
        if self._pending is not None:
            self._run()
        else:
            self.failed.emit(exc)

    def shutdown(self) -> None:
        self._timer.stop()
        self._pending = None
        self.jobs.cancel()


def failure_text(exc: BaseException, tokenizer_label: str) -> str:
    """One sentence for why tokenizing failed (not downloaded, a broken GGUF, …)."""
    from desktop.core.tokens.tiktoken_source import NeedsDownload, why_unavailable

    if isinstance(exc, NeedsDownload):
        missing = why_unavailable(tokenizer_label, exc)
        return f"{missing.name} is not available: {missing.reason}. To fix: {missing.fix}."
    return str(exc) or type(exc).__name__


EMPTY = Tokenized.from_pieces("", [], [])

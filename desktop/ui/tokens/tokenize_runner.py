"""Tokenize as the user types, without ever blocking the window.

Small text with a tiktoken encoding is tokenized right away in the GUI thread (well
under a millisecond); anything else — large text, a GGUF tokenizer (a round trip to its
host process), a first load — runs as a background job. A newer request cancels the
older one, so results never arrive out of order.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.core.tokens.tokenized import Tokenized
from desktop.engine.background import BackgroundJob
from desktop.engine.tokenizer_pool import TIKTOKEN, TokenizerPool

DEBOUNCE_MS = 120
INLINE_LIMIT = 20_000  # characters tokenized in the GUI thread (tiktoken, already loaded)


class TokenizeRunner(QObject):
    finished = Signal(object)  # Tokenized
    failed = Signal(object)  # the exception: NeedsDownload, SessionError, …

    def __init__(self, pool: TokenizerPool) -> None:
        super().__init__()
        self.pool = pool
        self._job: BackgroundJob | None = None
        self._pending: Callable[[], Tokenized] | None = None
        self._inline_ok = False
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._run)

    def request(self, key: str, text: str, *, parse_special: bool = False,
                immediately: bool = False) -> None:  # fmt: skip
        pool = self.pool
        self._pending = lambda: pool.tokenize(key, text, parse_special=parse_special)
        self._inline_ok = (
            key.startswith(TIKTOKEN) and len(text) <= INLINE_LIMIT and pool.is_loaded(key)
        )
        self._start(immediately)

    def request_call(self, work: Callable[[], Tokenized], *, immediately: bool = False) -> None:
        """Any tokenizing call (e.g. a chat prompt), run the same way, off the GUI thread."""
        self._pending, self._inline_ok = work, False
        self._start(immediately)

    def _start(self, immediately: bool) -> None:
        if immediately:
            self._run()
        else:
            self._timer.start()

    @Slot()
    def _run(self) -> None:
        self._timer.stop()
        work, self._pending = self._pending, None
        if work is None:
            return
        if self._job is not None:
            self._job.cancel()
            self._job = None
        if self._inline_ok:
            self.finished.emit(work())  # tiktoken, loaded, small text: no thread hop needed
            return
        job = BackgroundJob(lambda _c: work(), name="tokenize")
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        self._job = job.start()

    @Slot(object)
    def _on_done(self, result: Tokenized) -> None:
        if self.sender() is self._job:
            self._job = None
            self.finished.emit(result)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        if self.sender() is self._job:
            self._job = None
            self.failed.emit(exc)

    def shutdown(self) -> None:
        self._timer.stop()
        if self._job is not None:
            self._job.cancel()


def failure_text(exc: BaseException, tokenizer_label: str) -> str:
    """One sentence for why tokenizing failed (not downloaded, a broken GGUF, …)."""
    from desktop.core.tokens.tiktoken_source import NeedsDownload, why_unavailable

    if isinstance(exc, NeedsDownload):
        missing = why_unavailable(tokenizer_label, exc)
        return f"{missing.name} is not available: {missing.reason}. To fix: {missing.fix}."
    return str(exc) or type(exc).__name__


EMPTY = Tokenized.from_pieces("", [], [])

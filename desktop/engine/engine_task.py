"""Work for the loaded model, run in the engine thread: a chat reply, a quiz run, questions
written by the model. A task has the host session in hand, so its requests follow each
other without a round trip through the GUI; it reports through its own signals (queued to
the GUI thread, so only its asker hears them) and stops at the next token when cancelled.

Create a task, connect its signals, then hand it to `InferenceEngine.run_task`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from desktop.core.chat.chat_request import ChatReply, ChatRequest, RequestCancelled
from desktop.core.chat.context_fit import ContextFull
from desktop.core.chat.generation import GenerationRequest, TokenEvent
from desktop.engine.chat_turn import fit_prompt, generation_request
from desktop.engine.host_session import (
    HostSession,
    ModelCrashed,
    SessionError,
    cancelled_stats,
)

log = logging.getLogger(__name__)


class EngineTask(QObject):
    ended = Signal(str, str)  # "done" | "stopped" | "failed", and a message for the user

    def __init__(self) -> None:
        super().__init__()
        self._cancelled = threading.Event()
        self.threads = 0  # CPU threads for its requests; set by the engine when it starts
        # why it failed, for a tab that words it its own way (set before `ended`)
        self.error: SessionError | ContextFull | None = None

    @property
    def cancelled(self) -> threading.Event:
        return self._cancelled

    def cancel(self) -> None:
        """Thread-safe: the request in flight polls this flag and stops at its next token;
        a task still queued never starts."""
        self._cancelled.set()

    def run(self, session: HostSession) -> None:
        """Called by the engine thread. A crashed model is re-raised for the engine to
        report; any other failure ends the task with a message, never the thread."""
        if self._cancelled.is_set():
            self.ended.emit("stopped", "")
            return
        try:
            self.work(session)
            self.ended.emit("stopped" if self._cancelled.is_set() else "done", "")
        except RequestCancelled:
            self.ended.emit("stopped", "")
        except ModelCrashed as exc:
            self.ended.emit("failed", str(exc))
            raise
        except (SessionError, ContextFull) as exc:
            self.error = exc
            self.ended.emit("failed", str(exc))
        except Exception as exc:  # a bug in the task must not take the engine down
            log.exception("engine task failed")
            self.ended.emit("failed", f"Unexpected error: {exc}")

    def work(self, session: HostSession) -> None:
        raise NotImplementedError


class ReplyTask(EngineTask):
    """One reply: to a ChatRequest (the prompt is built, fitted and announced first), or
    to a ready GenerationRequest (benchmarks, raw prompts). A stopped reply still ends
    with `finished` (stop_reason "cancelled", the text so far); a failure with `ended`."""

    prompt_ready = Signal(object)  # FittedPrompt: the text, its tokens, what was left out
    tokens = Signal(object)  # a batch (tuple) of TokenEvents
    finished = Signal(object)  # ChatReply

    def __init__(self, request: ChatRequest | GenerationRequest, *, preview: bool = False):
        super().__init__()
        self.request = request
        self.preview = preview  # only build and count the prompt (View prompt, the counter)

    def run(self, session: HostSession) -> None:
        if self._cancelled.is_set():  # stopped while queued: it ends like any stopped reply
            rid = self.request.request_id if isinstance(self.request, GenerationRequest) else 0
            self.finished.emit(ChatReply("", cancelled_stats(rid, []), None))
        super().run(session)

    def work(self, session: HostSession) -> None:
        if isinstance(self.request, GenerationRequest):
            generation, fitted = self.request, None
            if generation.threads == 0 and self.threads:
                generation = replace(generation, threads=self.threads)
        else:
            request = self.request
            if request.threads == 0 and self.threads:
                request = replace(request, threads=self.threads)
            fitted = fit_prompt(session, request)
            self.prompt_ready.emit(fitted)
            if self.preview:
                return
            generation = generation_request(request, fitted)
        events: list[TokenEvent] = []

        def forward(batch: Sequence[TokenEvent]) -> None:
            events.extend(batch)
            self.tokens.emit(batch)

        stats = session.generate(generation, forward, self._cancelled)
        self.finished.emit(ChatReply(stats.text, stats, fitted, tuple(events)))

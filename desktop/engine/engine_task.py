"""Work that needs the loaded model for more than one request: a quiz run, questions
written by the model. A task runs in the engine thread with the host session in hand, so
its requests follow each other without a round trip through the GUI; it reports through
its own signals (queued to the GUI thread) and stops at the next token when cancelled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from desktop.core.generation import ChatMessage
from desktop.core.quiz.interrogation import AskOptions, PromptTooLong
from desktop.engine.host_session import HostSession, ModelCrashed, SessionError
from desktop.engine.session_ask import AskCancelled, session_ask

log = logging.getLogger(__name__)


class EngineTask(QObject):
    ended = Signal(str, str)  # "done" | "stopped" | "failed", and a message for the user

    def __init__(self) -> None:
        super().__init__()
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> threading.Event:
        return self._cancelled

    def cancel(self) -> None:
        """Thread-safe: the request in flight polls this flag and stops at its next token."""
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
        except AskCancelled:
            self.ended.emit("stopped", "")
        except ModelCrashed as exc:
            self.ended.emit("failed", str(exc))
            raise
        except SessionError as exc:
            self.ended.emit("failed", str(exc))
        except PromptTooLong as exc:
            self.ended.emit("failed", f"Too long for this model's context: {exc}. Load it "
                                      "with a larger context in the Chat tab.")  # fmt: skip
        except Exception as exc:  # a bug in the task must not take the engine down
            log.exception("engine task failed")
            self.ended.emit("failed", f"Unexpected error: {exc}")

    def work(self, session: HostSession) -> None:
        raise NotImplementedError


class OneReplyTask(EngineTask):
    """One reply to `messages`, with its growing token count as progress."""

    replied = Signal(str)
    progress = Signal(int)  # tokens written so far

    def __init__(self, messages: Sequence[ChatMessage], options: AskOptions) -> None:
        super().__init__()
        self._messages = list(messages)
        self._options = options

    def work(self, session: HostSession) -> None:
        ask = session_ask(session, self._cancelled, self.progress.emit)
        self.replied.emit(ask(self._messages, self._options).text)

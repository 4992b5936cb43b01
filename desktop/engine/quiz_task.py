"""A quiz run in the engine thread: every question asked and graded, one signal per
answer (a few per second at most, so no batching is needed)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from PySide6.QtCore import Signal

from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.quiz.interrogation import interrogate
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.settings import QuizSettings
from desktop.engine.engine_task import EngineTask
from desktop.engine.host_session import HostSession
from desktop.engine.quiz_ask import ask


class InterrogationTask(EngineTask):
    answered = Signal(object)  # SampleAnswer

    def __init__(
        self,
        pairs: Sequence[QAPair],
        article: str,
        settings: QuizSettings,
        done: Collection[tuple[int, str, int]] = (),
    ) -> None:
        super().__init__()
        self._pairs = list(pairs)
        self._article = article
        self._settings = settings
        self._done = set(done)

    def work(self, session: HostSession) -> None:
        def ask_model(request: ChatRequest) -> ChatReply:
            return ask(session, replace(request, threads=self.threads), cancelled=self.cancelled)

        for answer in interrogate(
            self._pairs, self._article, self._settings, ask_model, self._done
        ):
            self.answered.emit(answer)
            if self.cancelled.is_set():
                return

"""The same prompt to two models, one after the other, in a model host of its own: what
"Compare with the original" shows side by side. Qt-free; run it on a worker thread.

Each model is asked as the Chat tab would ask it (its own chat template, or the
base-model prompt when it has none), greedy, so the difference is the training's and not
the dice's. Its own host process leaves the Chat tab's loaded model where it is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.generation import ChatMessage, LoadSettings, SamplingSettings
from desktop.engine.chat_turn import ask
from desktop.engine.host_session import HostSession, SessionError

GREEDY = SamplingSettings(temperature=0.0, top_k=1, repeat_penalty=1.0, max_tokens=160, seed=0)


@dataclass(frozen=True)
class ComparedReply:
    model: str  # the file's name
    text: str  # the reply, or why there is none
    failed: bool = False


def compare_replies(
    paths: tuple[Path, Path],
    prompt: str,
    *,
    system: str = "",
    cancelled: threading.Event | None = None,
    context: int = 2048,
) -> tuple[ComparedReply, ComparedReply]:
    messages = ((ChatMessage("system", system),) if system else ()) + (ChatMessage("user", prompt),)
    request = ChatRequest(messages, sampling=GREEDY)
    session = HostSession()
    replies = []
    try:
        for path in paths:
            try:
                session.load(str(path), LoadSettings(context_size=context, threads=1))
                reply = ask(session, request, cancelled=cancelled)
                replies.append(ComparedReply(path.name, reply.text.strip()))
            except SessionError as exc:
                replies.append(ComparedReply(path.name, str(exc), failed=True))
    finally:
        session.close()
    return replies[0], replies[1]

"""One quiz ask through a HostSession: `chat_turn.ask` plus the request's own stop strings.

A base model asked to continue a sentence answers with its first line; the raw prompt mode
has no stops of its own, so without the quiz's "\\n" the model would write on to the token
limit (three to four times the tokens, for nothing that is graded). Qt-free: the engine
thread's quiz task and the command line share it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from desktop.core.chat.chat_request import ChatReply, ChatRequest, RequestCancelled
from desktop.core.chat.generation import TokenEvent
from desktop.core.models.model_info import ModelInfo
from desktop.core.models.model_kind import ModelKind, detect_kind, model_names
from desktop.core.quiz.quiz_prompts import request_stops, resolve_kind
from desktop.engine.chat_turn import fit_prompt, generation_request
from desktop.engine.host_session import HostSession
from desktop.engine.protocol import LoadedModel


def ask(
    session: HostSession,
    request: ChatRequest,
    on_tokens: Callable[[Sequence[TokenEvent]], None] = lambda _batch: None,
    cancelled: threading.Event | None = None,
) -> ChatReply:
    """The reply to `request`; raises RequestCancelled when `cancelled` stops it."""
    if cancelled is not None and cancelled.is_set():
        raise RequestCancelled
    fitted = fit_prompt(session, request)
    generation = generation_request(request, fitted)
    extra = tuple(s for s in request_stops(request) if s not in generation.stop)
    events: list[TokenEvent] = []

    def collect(batch: Sequence[TokenEvent]) -> None:
        events.extend(batch)
        on_tokens(batch)

    stats = session.generate(replace(generation, stop=generation.stop + extra), collect, cancelled)
    if stats.stop_reason == "cancelled" and cancelled is not None and cancelled.is_set():
        raise RequestCancelled
    return ChatReply(stats.text, stats, fitted, tuple(events))


def model_kind(model: LoadedModel, ask_as: str = "auto") -> tuple[ModelKind, str]:
    """How the quiz asks the loaded model, and why: chosen by the person, or read from its
    name (file and header) and whether it has a chat template."""
    if ask_as in ("base", "instruct"):
        return resolve_kind(ask_as, model.template, ()), "chosen in the settings"
    header_name = model.info.name if isinstance(model.info, ModelInfo) else ""
    return detect_kind(model.template, model_names(model.path, header_name))

"""`Ask` over a HostSession: a chat request to the loaded model, its reply and token
probabilities. One function serves the CLI (in its own thread) and the engine's tasks."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence

from desktop.core.generation import ChatMessage, GenerationRequest, SamplingSettings, TokenEvent
from desktop.core.prompt_builder import build_prompt
from desktop.core.quiz.interrogation import Ask, AskOptions, PromptTooLong, Reply
from desktop.engine.host_session import HostSession, SessionError

MIN_REPLY_TOKENS = 64  # room a reply keeps when the prompt leaves less than max_tokens
# Request ids of tasks never collide with the Chat tab's (which count up from 1).
_request_ids = itertools.count(1 << 40)


class AskCancelled(Exception):
    """The user stopped the task while the model was answering."""


def session_ask(
    session: HostSession,
    cancelled: threading.Event | None = None,
    on_tokens: Callable[[int], None] = lambda _n: None,
    *,
    base_mode: bool = False,
) -> Ask:
    """`on_tokens(n)` hears the running token count of the reply being written."""
    prompt_tokens: dict[str, int] = {}  # the K samples of a question share one count

    def ask(messages: Sequence[ChatMessage], options: AskOptions) -> Reply:
        if cancelled is not None and cancelled.is_set():
            raise AskCancelled
        model = session.model
        if model is None:
            raise SessionError("No model is loaded. Load one in the Chat tab first.")
        plan = build_prompt(messages, model.template, base_mode=base_mode)
        max_tokens = options.max_tokens
        # A token is at least one byte (plus BOS), so only a long prompt needs counting.
        if len(plan.text.encode("utf-8")) + 2 > model.context_size - max_tokens:
            tokens = prompt_tokens.get(plan.text)
            if tokens is None:
                tokens = prompt_tokens[plan.text] = len(session.tokenize(0, plan.text)[0])
            needed = min(max_tokens, MIN_REPLY_TOKENS)  # a long reply may be cut shorter
            if model.context_size - tokens < needed:
                raise PromptTooLong(tokens, model.context_size - needed)
            max_tokens = min(max_tokens, model.context_size - tokens)
        probs: list[float] = []
        texts: list[str] = []

        def collect(batch: Sequence[TokenEvent]) -> None:
            probs.extend(event.prob for event in batch)
            texts.extend(event.text for event in batch)
            on_tokens(len(probs))

        request = GenerationRequest(
            request_id=next(_request_ids),
            prompt=plan.text,
            stop=plan.stops,
            sampling=SamplingSettings(
                temperature=options.temperature, max_tokens=max_tokens, seed=options.seed
            ),
            top_alternatives=1,  # makes the host report each token's probability
        )
        stats = session.generate(request, collect, cancelled)
        if stats.stop_reason == "cancelled" or (cancelled is not None and cancelled.is_set()):
            raise AskCancelled
        return Reply(stats.text, tuple(probs), tuple(texts))

    return ask

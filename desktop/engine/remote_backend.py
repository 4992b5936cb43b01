"""A model on an OpenAI-compatible server, behind the same Backend protocol as llama.cpp.

It runs in the model-host process like the llama.cpp backend, so the engine's stop, hard
stop, token batching and crash handling serve it unchanged. A chat request goes to
/v1/chat/completions as messages (the server applies its own chat template); raw-text and
base-model prompts, which the app writes itself, go to /v1/completions as text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

from desktop.core.chat.generation import (
    GenerationRequest,
    GenerationStats,
    LoadSettings,
    StopReason,
    TokenEvent,
)
from desktop.core.chat.prompt_builder import TemplateInfo
from desktop.core.chat.stop_strings import TokenStopFilter
from desktop.core.remote.chunks import ChunkReader, chat_body, completion_body
from desktop.core.remote.client import RemoteClient, StreamInterrupted
from desktop.core.remote.endpoint import (
    REMOTE_TEMPLATE,
    approximate_tokens,
    parse_remote,
)
from desktop.core.remote.errors import RemoteError, cut_short, error_in_stream, host_of
from desktop.engine.protocol import GenerationError, LoadedModel

MODELS_SHOWN = 8  # in "it has: a, b, …" when the asked model is not listed


class RemoteBackend:
    def __init__(self) -> None:
        self._client: RemoteClient | None = None
        self._model = ""

    def load(
        self,
        path: str,
        settings: LoadSettings,
        progress: Callable[[float], bool],
        api_key: str = "",
    ) -> LoadedModel:
        """Ask the server for its models: that checks the address, the key and the model
        name before the first message is sent."""
        start = time.perf_counter()
        self.close()
        remote = parse_remote(path)
        client = RemoteClient(remote.base_url, api_key)
        try:
            models = client.list_models()
        except RemoteError as exc:
            client.close()
            raise GenerationError(str(exc)) from exc
        if not progress(1.0):
            client.close()
            raise GenerationError("loading was cancelled")
        info = next((m for m in models if m.id == remote.model), None)
        if info is None and models:
            client.close()
            names = ", ".join(m.id for m in models[:MODELS_SHOWN])
            more = f" and {len(models) - MODELS_SHOWN} more" if len(models) > MODELS_SHOWN else ""
            raise GenerationError(
                f"{host_of(remote.base_url)} does not list the model "
                f"“{remote.model}”; it has {names}{more}"
            )
        self._client, self._model = client, remote.model
        return LoadedModel(
            path=remote.path,
            # what the server says, else the context the person set (fitting needs one)
            context_size=(info.context_length if info else 0) or settings.context_size,
            vocab_size=0,
            load_seconds=time.perf_counter() - start,
            description=remote.model,
            runtime=f"remote server {remote.origin}",
            template=TemplateInfo(chat_template=REMOTE_TEMPLATE),
            endpoint=remote.base_url,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def tokenize(
        self, text: str, *, parse_special: bool, add_bos: bool
    ) -> tuple[list[int], list[bytes]]:
        raise GenerationError(
            "a remote server does not share its tokenizer; token counts "
            "for remote models are estimates"
        )

    # ---- generation ----------------------------------------------------------------

    def stream(
        self, request: GenerationRequest, should_stop: Callable[[], bool]
    ) -> Iterator[TokenEvent | GenerationStats]:
        client = self._client
        if client is None:
            raise GenerationError("no model is loaded")
        chat = bool(request.messages)
        endpoint = "chat/completions" if chat else "completions"
        body = chat_body(self._model, request) if chat else completion_body(self._model, request)
        url = f"{client.base_url}/{endpoint}"
        reader, stops = ChunkReader(), TokenStopFilter(request.stop)
        parts: list[str] = []
        times: list[float] = []
        start = time.perf_counter()
        reason: StopReason | None = None
        events = self._events(client, endpoint, body, should_stop)
        try:
            for event in events:
                for token in reader.read(event):
                    times.append(time.perf_counter())
                    for ready in stops.feed(token):
                        parts.append(ready.text)
                        yield ready
                    if stops.stopped:
                        reason = "stop"
                        break
                if reason is not None:
                    break  # leaving the stream closes it: the server stops generating
        except StreamInterrupted as exc:
            for ready in stops.flush():
                yield ready
            if exc.server_said:
                message = error_in_stream(url, len(times), exc.server_said)
                raise GenerationError(str(message)) from exc
            raise GenerationError(str(cut_short(url, len(times), str(exc)))) from exc
        except RemoteError as exc:
            raise GenerationError(str(exc)) from exc
        finally:
            events.close()  # closes the connection now, not when it is collected
        if reason is None and should_stop():
            reason = "cancelled"
        if reason is None and reader.finish_reason is None:
            for ready in stops.flush():
                yield ready
            raise GenerationError(str(cut_short(url, len(times), "the stream ended early")))
        for ready in [*reader.close(), *stops.flush()]:
            parts.append(ready.text)
            yield ready
        yield self._stats(request, reader, reason or reader.stop_reason, parts, start, times)

    def _events(
        self, client: RemoteClient, endpoint: str, body: dict[str, Any],
        should_stop: Callable[[], bool],
    ) -> Generator[dict[str, Any], None, None]:  # fmt: skip
        """The stream's events. A server that refuses an optional field (usage while
        streaming, logprobs) is asked again without it, before any token has come."""
        for optional in (None, "stream_options", "logprobs"):
            if optional == "logprobs":
                body = {k: v for k, v in body.items() if k not in ("logprobs", "top_logprobs")}
            elif optional == "stream_options":
                body = {k: v for k, v in body.items() if k != "stream_options"}
            try:
                yield from client.stream(endpoint, body, should_stop)
                return
            except RemoteError as exc:
                refused = str(exc).lower()
                if exc.status != 400 or optional == "logprobs" or (
                    "stream_options" not in refused and "logprobs" not in refused
                ):  # fmt: skip
                    raise
        raise AssertionError("unreachable")

    def _stats(
        self, request: GenerationRequest, reader: ChunkReader, reason: StopReason,
        parts: list[str], start: float, times: list[float],
    ) -> GenerationStats:  # fmt: skip
        """The server's own token counts where it gives them (its `usage`); else ours."""
        generated = reader.completion_tokens or len(times)
        sent = (
            request.prompt if not request.messages else "".join(m.content for m in request.messages)
        )
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return GenerationStats(
            request_id=request.request_id,
            prompt_tokens=reader.prompt_tokens or approximate_tokens(sent),
            generated_tokens=generated,
            time_to_first_token_s=times[0] - start if times else 0.0,
            # a server may send several tokens in one event: count tokens, not events
            tokens_per_s=(generated - 1) / span if span > 0 and generated > 1 else 0.0,
            stop_reason=reason,
            text="".join(parts),
        )


BACKEND_NAME = "desktop.engine.remote_backend:RemoteBackend"

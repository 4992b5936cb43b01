"""A synchronous, Qt-free session with the model host: load, generate, tokenize.

The polling loops, the hard stop and the translation of a dead host into a clear message
live here once; the Qt engine and the command line are both thin drivers over it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from desktop.core.chat.generation import (
    GenerationRequest,
    GenerationStats,
    LoadSettings,
    TokenEvent,
)
from desktop.core.remote.endpoint import EndpointError, is_remote, parse_remote, what_is_sent
from desktop.engine.model_host import LLAMA_BACKEND, HostDied, ModelHost
from desktop.engine.preflight import preflight
from desktop.engine.protocol import (
    Failed,
    Finished,
    GenerateCommand,
    LoadCommand,
    Loaded,
    LoadedModel,
    LoadProgress,
    TokenBatch,
    TokenizeCommand,
    TokenizeResult,
    UnloadCommand,
)

REMOTE_BACKEND = "desktop.engine.remote_backend:RemoteBackend"
POLL_S = 0.1  # data wakes the poll at once; the timeout only paces the hard-stop check
HARD_STOP_AFTER_S = 2.0


class SessionError(RuntimeError):
    """A request failed; the message is a sentence for the user. `partial` is what a
    reply had streamed before it failed (a remote stream cut midway), kept by callers."""

    partial: str = ""


class ModelCrashed(SessionError):
    """The host process died; the model must be loaded again."""


class HostSession:
    def __init__(
        self,
        backend: str = LLAMA_BACKEND,
        backend_kwargs: dict[str, Any] | None = None,
        hard_stop_after: float = HARD_STOP_AFTER_S,
    ) -> None:
        self._host = ModelHost(backend, backend_kwargs)
        self._local_backend = (backend, dict(backend_kwargs or {}))  # for GGUF paths
        self._hard_stop_after = hard_stop_after
        self._stop = threading.Event()
        self._stop_at = 0.0
        self.model: LoadedModel | None = None
        self._load_settings = LoadSettings()
        self._reload_needed = False  # a hard stop killed the host under a loaded model

    @property
    def host_pid(self) -> int | None:
        return self._host.pid

    def start_host(self) -> None:
        """Start the child early so the first load does not wait for it."""
        self._host.start()

    def stop(self) -> None:
        """Thread-safe: stop the current generation or load; hard stop after ~2 s."""
        if not self._stop.is_set():  # pressing Stop again must not push the hard stop back
            self._stop_at = time.monotonic()
            self._stop.set()
        self._host.request_stop()

    @property
    def stop_pressed_at(self) -> float:
        """When the stop under way was first asked for (the hard stop counts from it)."""
        return self._stop_at

    def kill_host(self) -> None:
        """From any thread, as a last resort: the engine thread's wait then ends at once."""
        self._host.kill_from_other_thread()

    def close(self) -> None:
        self._host.shutdown()
        self.model = None

    def unload(self) -> None:
        self._stop.clear()
        if self.model is not None and self._host.alive:
            self._host.send(UnloadCommand())
        self.model = None

    # ---- load ----------------------------------------------------------------------

    def load(
        self,
        path: str,
        settings: LoadSettings,
        on_progress: Callable[[float], None] = lambda _f: None,
        on_warning: Callable[[str], None] = lambda _w: None,
    ) -> LoadedModel:
        self._stop.clear()
        self.model = None
        self._reload_needed = False
        if is_remote(path):
            return self._load_remote(path, settings, on_progress, on_warning)
        self._host.use_backend(*self._local_backend)
        verdict = preflight(path, settings)
        if verdict.error:
            raise SessionError(verdict.error)
        if self._stop.is_set():  # Cancel pressed while the file was being checked
            raise SessionError("Loading was cancelled.")
        for warning in verdict.warnings:
            on_warning(warning)
        trained = (verdict.info.context_length or 0) if verdict.info else 0
        if 0 < trained < settings.context_size:
            # Past its trained context a model degrades; the memory would be wasted too.
            settings = replace(settings, context_size=trained)
        try:
            model = self._await_load(LoadCommand(path, settings), on_progress)
        except HostDied as exc:
            self._host.kill()
            raise SessionError(
                f"llama.cpp crashed while loading this file ({exc}). The file is probably "
                "damaged or made for a newer llama.cpp; the app is fine. Download it again, "
                "or try another quantization of the model (F16 or Q8_0)."
            ) from exc
        self.model = replace(model, info=verdict.info)
        self._load_settings = settings
        return self.model

    def _load_remote(
        self,
        path: str,
        settings: LoadSettings,
        on_progress: Callable[[float], None],
        on_warning: Callable[[str], None],
    ) -> LoadedModel:
        """A model on an OpenAI-compatible server: the host runs the remote client instead
        of llama.cpp, with the server's key from the keyring. Saying what is sent where
        comes first, before any request (even the model list) leaves."""
        from desktop.core.remote.keys import load_key

        try:
            remote = parse_remote(path)
        except EndpointError as exc:
            raise SessionError(str(exc)) from exc
        on_warning(what_is_sent(remote.base_url))
        self._host.use_backend(REMOTE_BACKEND)
        command = LoadCommand(remote.path, settings, api_key=load_key(remote.base_url))
        try:
            self.model = self._await_load(command, on_progress)
        except HostDied as exc:
            self._host.kill()
            raise SessionError(f"The remote model's client stopped ({exc}). Try again.") from exc
        self._load_settings = settings
        return self.model

    def _await_load(
        self, command: LoadCommand, on_progress: Callable[[float], None]
    ) -> LoadedModel:
        self._host.send(command)
        while True:
            event = self._host.poll(POLL_S)
            if self._hard_stop_due():
                self._host.kill()
                raise SessionError("Loading was cancelled.")
            if isinstance(event, LoadProgress):
                on_progress(event.fraction)
            elif isinstance(event, Loaded):
                return event.model
            elif isinstance(event, Failed):
                raise SessionError(sentence(event.message))

    # ---- generate ------------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest,
        on_tokens: Callable[[Sequence[TokenEvent]], None],
        cancelled: threading.Event | None = None,
    ) -> GenerationStats:
        """Stream a reply; `on_tokens` gets each batch of new tokens as it arrives.

        `cancelled` is a task's own stop flag, checked here at every poll: a task is
        stopped without touching the session's flag from another thread, so a stop can
        neither land on the next request nor be lost between two."""
        self._stop.clear()
        if self.model is None:
            raise SessionError("No model is loaded. Pick a model and load it first.")
        if self._reload_needed:
            self._reload()
        streamed: list[str] = []
        try:
            self._host.send(GenerateCommand(request))
            while True:
                event = self._host.poll(POLL_S)
                if cancelled is not None and cancelled.is_set() and not self._stop.is_set():
                    self.stop()
                if self._hard_stop_due():
                    # The host ignored the stop (a long prompt): kill it now, and bring
                    # the model back with the next request, not here (the app may be
                    # closing, and a reload can take long).
                    self._host.kill()
                    self._reload_needed = True
                    return cancelled_stats(request.request_id, streamed)
                if isinstance(event, TokenBatch):
                    # Tokens the host made before it saw the stop are not shown: a fast
                    # model runs ahead of the GUI, and Stop means "stop here".
                    if not self._stop.is_set():
                        streamed.extend(e.text for e in event.events)
                        on_tokens(event.events)
                elif isinstance(event, Finished):
                    if self._stop.is_set():
                        return replace(
                            event.stats,
                            stop_reason="cancelled",
                            text="".join(streamed),
                            generated_tokens=len(streamed),
                        )
                    return event.stats
                elif isinstance(event, Failed):
                    error = SessionError(sentence(event.message))
                    error.partial = "".join(streamed)
                    raise error
        except HostDied as exc:
            self.model = None
            self._host.kill()
            raise ModelCrashed(
                f"The model crashed: {exc}. What it wrote so far is kept. Load the model "
                "again to go on; if it crashes again, try another quantization of it (F16 or "
                "Q8_0) or another model."
            ) from exc

    def tokenize(
        self, request_id: int, text: str, parse_special: bool = True, *, add_bos: bool = False
    ) -> tuple[tuple[int, ...], tuple[bytes, ...]]:
        if self.model is None:
            raise SessionError("No model is loaded.")
        self._stop.clear()  # a stop meant for an earlier request does not end this one
        if self._reload_needed:
            self._reload()
        try:
            self._host.send(TokenizeCommand(request_id, text, parse_special, add_bos))
            while True:
                event = self._host.poll(POLL_S)
                if self._hard_stop_due():
                    self._host.kill()
                    self._reload_needed = True
                    raise SessionError("Counting tokens was stopped.")
                if isinstance(event, TokenizeResult):
                    return event.ids, event.pieces
                if isinstance(event, Failed):
                    raise SessionError(sentence(event.message))
        except HostDied as exc:
            self.model = None
            self._host.kill()
            raise ModelCrashed(
                f"The model crashed: {exc}. Load it again; if it crashes again, try another "
                "quantization of it (F16 or Q8_0) or another model."
            ) from exc

    # ---- helpers -------------------------------------------------------------------

    def _hard_stop_due(self) -> bool:
        return self._stop.is_set() and time.monotonic() - self._stop_at > self._hard_stop_after

    def _reload(self) -> None:
        """Load the model again in a new host after a hard stop; failing means no model."""
        model, settings = self.model, self._load_settings
        self._reload_needed = False
        if model is None:
            return
        try:
            self.load(model.path, settings)
        except SessionError as exc:
            self.model = None
            raise ModelCrashed(
                f"The model could not be loaded again after a forced stop: {exc}"
            ) from exc
        self._stop.clear()


def sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def cancelled_stats(request_id: int, streamed: list[str]) -> GenerationStats:
    return GenerationStats(
        request_id=request_id,
        prompt_tokens=0,
        generated_tokens=len(streamed),
        time_to_first_token_s=0.0,
        tokens_per_s=0.0,
        stop_reason="cancelled",
        text="".join(streamed),
    )

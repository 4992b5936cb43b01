"""Messages between the engine thread and the model-host process, and the Backend protocol.

Everything here is pickled through a multiprocessing pipe, so it is plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from desktop.core.chat.generation import (
    GenerationRequest,
    GenerationStats,
    LoadSettings,
    TokenEvent,
)
from desktop.core.chat.prompt_builder import TemplateInfo


class GenerationError(RuntimeError):
    """A request that cannot be served, with a message meant for the user."""


# ---- engine -> host -------------------------------------------------------------------


@dataclass(frozen=True)
class LoadCommand:
    path: str
    settings: LoadSettings
    api_key: str = ""  # a remote model's key, from the keyring: never part of the path


@dataclass(frozen=True)
class GenerateCommand:
    request: GenerationRequest


@dataclass(frozen=True)
class TokenizeCommand:
    request_id: int
    text: str
    parse_special: bool = True
    add_bos: bool = False


@dataclass(frozen=True)
class UnloadCommand:
    pass


# ---- host -> engine -------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedModel:
    path: str
    context_size: int
    vocab_size: int
    load_seconds: float
    description: str = ""
    runtime: str = ""  # which llama.cpp build runs it ("llama.cpp CPU variant zen4")
    threads: int = 0
    # chat template and BOS/EOS text, as llama.cpp read them
    template: TemplateInfo = field(default_factory=TemplateInfo)
    info: object = None  # the file's ModelInfo, added by the engine from its preflight check
    # vocab-only loads: every token's bytes, and which ids are control tokens
    vocabulary: tuple[bytes, ...] = ()
    special_ids: frozenset[int] = frozenset()
    end_ids: frozenset[int] = frozenset()  # tokens that end a reply (end of turn, of text)
    # a remote model: the base URL of the server that runs it ("" for a local GGUF)
    endpoint: str = ""


@dataclass(frozen=True)
class LoadProgress:
    fraction: float


@dataclass(frozen=True)
class Loaded:
    model: LoadedModel


@dataclass(frozen=True)
class TokenBatch:
    """Tokens made within ~20 ms: one pipe message and one signal instead of many."""

    request_id: int
    events: tuple[TokenEvent, ...]


@dataclass(frozen=True)
class Finished:
    stats: GenerationStats


@dataclass(frozen=True)
class TokenizeResult:
    request_id: int
    ids: tuple[int, ...]
    pieces: tuple[bytes, ...]


@dataclass(frozen=True)
class Failed:
    """A request failed in an orderly way (the host is still alive)."""

    request_id: int  # -1 for a load
    message: str


HostEvent = LoadProgress | Loaded | TokenBatch | Finished | TokenizeResult | Failed


class Backend(Protocol):
    """What the model host runs. Implementations: llama.cpp, an OpenAI-compatible remote
    server (remote_backend.py; its `load` also takes the `api_key`), and a scripted fake
    for tests."""

    def load(
        self,
        path: str,
        settings: LoadSettings,
        progress: Callable[[float], bool],
    ) -> LoadedModel:
        """Load a model. `progress(fraction)` returns False to cancel the load."""
        ...

    def stream(
        self, request: GenerationRequest, should_stop: Callable[[], bool]
    ) -> Iterator[TokenEvent | GenerationStats]:
        """Yield token events, then exactly one GenerationStats."""
        ...

    def tokenize(
        self, text: str, *, parse_special: bool, add_bos: bool
    ) -> tuple[list[int], list[bytes]]: ...

    def close(self) -> None: ...

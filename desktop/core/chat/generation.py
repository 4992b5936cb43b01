"""Value types shared by the engine, the model host process and the UI.

They cross a process boundary (pickled through a pipe), so they are plain dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from desktop.core.api.tool_calls import ToolCall

Role = Literal["system", "user", "assistant", "tool"]
StopReason = Literal["eos", "stop", "length", "context", "cancelled", "crashed", "error"]


@dataclass(frozen=True)
class SamplingSettings:
    """Per-request sampling. `seed` < 0 means a fresh random seed each time."""

    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    seed: int = -1


@dataclass(frozen=True)
class LoadSettings:
    """Load-time settings: changing them means reloading the model."""

    context_size: int = 4096
    threads: int = 0  # 0: let the host pick (physical cores)
    vocab_only: bool = False  # just the tokenizer: no weights read (the Tokens tab)


@dataclass(frozen=True)
class ChatMessage:
    """One turn. An assistant turn may carry the tool calls it made (`content` is then the
    text around them); a "tool" turn is one call's result, tied to it by `tool_call_id`."""

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    name: str = ""  # a tool turn: the tool's name


@dataclass(frozen=True)
class TokenAlternative:
    text: str
    prob: float


@dataclass(frozen=True)
class TokenEvent:
    """One generated token as the user sees it.

    `text` may be empty when the token is only part of a UTF-8 character; the bytes are
    then carried into the next event's text.
    """

    text: str
    token_id: int
    prob: float = 1.0
    alternatives: tuple[TokenAlternative, ...] = ()


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate: the `prompt` text, and for a remote chat model the `messages`
    themselves (a remote server applies its own chat template; `prompt` then shows them)."""

    request_id: int
    prompt: str
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    stop: tuple[str, ...] = ()
    top_alternatives: int = 0  # >0: report that many alternatives per token
    ignore_eos: bool = False  # never sample an end token: fixed-length runs (benchmarks)
    threads: int = 0  # CPU threads for this request; 0: those the model was loaded with
    messages: tuple[ChatMessage, ...] = ()  # remote chat: sent as they are, not as `prompt`


@dataclass(frozen=True)
class GenerationStats:
    request_id: int
    prompt_tokens: int
    generated_tokens: int
    time_to_first_token_s: float
    tokens_per_s: float
    stop_reason: StopReason
    text: str = ""

    def summary(self) -> str:
        first_ms = self.time_to_first_token_s * 1000
        return (
            f"{self.generated_tokens} tokens · first token {first_ms:.0f} ms"
            f" · {self.tokens_per_s:.1f} tok/s · stopped: {self.stop_reason}"
        )

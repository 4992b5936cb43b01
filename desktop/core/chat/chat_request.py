"""The request vocabulary every caller of the model shares: the Chat tab, the quiz, the
command line, later post-training samples and tools. A `ChatRequest` is messages plus how
to prompt with them; the engine turns it into text (prompt_builder), fits it to the
context (context_fit) and streams a `ChatReply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.core.chat.base_prompt import DEFAULT_STYLE, BasePromptStyle
from desktop.core.chat.context_fit import FittedPrompt, OverflowPolicy
from desktop.core.chat.generation import ChatMessage, GenerationStats, SamplingSettings, TokenEvent
from desktop.core.chat.prompt_builder import PromptMode
from desktop.core.documents.document import Document


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[ChatMessage, ...]
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    mode: PromptMode | None = None  # None: the model's own (its template if it has one)
    style: BasePromptStyle = DEFAULT_STYLE
    overflow: OverflowPolicy = "drop oldest"
    top_alternatives: int = 0  # >0: each token's probability and that many alternatives
    threads: int = 0  # 0: as loaded
    tools: tuple[str, ...] = ()  # tools offered (desktop/core/tools/tool_specs.py names)
    documents: tuple[Document, ...] = ()  # attached: placed before the latest question


@dataclass(frozen=True)
class ChatReply:
    text: str
    stats: GenerationStats
    prompt: FittedPrompt | None  # None for a ready-made prompt (GenerationRequest)
    events: tuple[TokenEvent, ...] = ()

    @property
    def token_probs(self) -> tuple[float, ...]:
        return tuple(e.prob for e in self.events)

    @property
    def token_texts(self) -> tuple[str, ...]:
        return tuple(e.text for e in self.events)


class RequestCancelled(Exception):
    """The person stopped the work while the model was answering."""

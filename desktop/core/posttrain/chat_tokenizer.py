"""What fine-tuning asks of a model's tokenizer, whoever runs it.

A downloaded GGUF's tokenizer is run by llama.cpp itself, in the model-host process
(`desktop.engine.host_chat_tokenizer`): ids are then exactly those the model reads in the
Chat tab, for every tokenizer kind llama.cpp knows (byte-level BPE, SentencePiece, …), and
llama.cpp never runs in the GUI's process. A Train-tab tokenizer runs here too, through
tiktoken (`TrainedChatTokenizer`): its GGUF export tokenizes identically in llama.cpp (the
Train tab's tests prove it), which lets the core's tests run without a child process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from desktop.core.train.trained_tokenizer import TrainedTokenizer


class ChatTokenizer(Protocol):
    @property
    def n_vocab(self) -> int: ...

    @property
    def end_ids(self) -> frozenset[int]:
        """Tokens that end a reply (end of turn, end of text)."""
        ...

    @property
    def pad_id(self) -> int:
        """A token to fill short rows with (never scored)."""
        ...

    def encode(self, text: str) -> list[int]:
        """`text` as the model reads a prompt: special tokens written in it (`<|im_start|>`)
        are those tokens, and a BOS comes first if the model wants one."""
        ...

    def piece(self, token_id: int) -> bytes:
        """The token's bytes (a special token's text); may be part of a character."""
        ...


@dataclass(frozen=True)
class TrainedChatTokenizer:
    """A Train-tab tokenizer (ChatML's special tokens reserved), run by tiktoken. Its
    models start without BOS, as their GGUF export says (`add_bos_token` false)."""

    tokenizer: TrainedTokenizer

    @property
    def n_vocab(self) -> int:
        return self.tokenizer.n_vocab

    @property
    def end_ids(self) -> frozenset[int]:
        specials = self.tokenizer.special_tokens
        return frozenset(specials[t] for t in ("<|im_end|>", "<|endoftext|>") if t in specials)

    @property
    def pad_id(self) -> int:
        return min(self.end_ids, default=0)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, allow_special=True)

    def piece(self, token_id: int) -> bytes:
        table = self.tokenizer.token_bytes
        if token_id < len(table):
            return table[token_id]
        specials = {i: t for t, i in self.tokenizer.special_tokens.items()}
        return specials.get(token_id, "").encode("utf-8")

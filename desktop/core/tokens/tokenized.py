"""The result of tokenizing a text, whichever tokenizer did it, and the counts shown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop.core.tokens.display import TokenDisplay, display_from_lengths

_WORD = re.compile(r"\S+")


@dataclass(frozen=True, eq=False)
class Tokenized:
    """Ids, and each token's byte length into `data` (the bytes the tokens spell out), so
    a tokenizer need not make one bytes object per token: 1 MB is 250 000 tokens."""

    text: str
    ids: Sequence[int]
    lengths: npt.NDArray[np.int64]
    data: bytes
    special_ids: frozenset[int] = frozenset()  # control tokens of the vocabulary

    @classmethod
    def from_pieces(
        cls, text: str, ids: Sequence[int], pieces: Sequence[bytes],
        special_ids: frozenset[int] = frozenset(),
    ) -> Tokenized:  # fmt: skip
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        return cls(text, ids, lengths, b"".join(pieces), special_ids)

    def pieces(self) -> list[bytes]:
        ends = np.cumsum(self.lengths).tolist()
        return [self.data[e - n : e] for e, n in zip(ends, self.lengths.tolist(), strict=True)]

    @property
    def special_count(self) -> int:
        return sum(1 for i in self.ids if i in self.special_ids)

    def display(self, *, show_whitespace: bool = False) -> TokenDisplay:
        return display_from_lengths(self.ids, self.lengths, self.data,
                                    special_ids=self.special_ids,
                                    show_whitespace=show_whitespace)  # fmt: skip


@dataclass(frozen=True)
class TextCounts:
    characters: int
    words: int
    tokens: int
    bytes: int

    @property
    def tokens_per_word(self) -> float:
        return self.tokens / self.words if self.words else 0.0

    @property
    def bytes_per_token(self) -> float:
        return self.bytes / self.tokens if self.tokens else 0.0


def count(text: str, tokens: int) -> TextCounts:
    return TextCounts(len(text), len(_WORD.findall(text)), tokens, len(text.encode("utf-8")))

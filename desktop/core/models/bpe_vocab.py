"""Byte-level BPE vocabularies as GGUF stores them and llama.cpp's "gpt2" tokenizer reads them.

Tokens are written in GPT-2's byte-to-unicode text form (space is 'Ġ', newline 'Ċ'). Ids
0-255 are the raw bytes, then one token per merge, then the special tokens. A vocabulary
comes either from a trainer's own merges (`vocab_from_byte_merges`) or, for test fixtures
and benchmarks, from `byte_level_bpe_vocab`, which learns merges from a short built-in text
and pads them out to any size.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from gguf import TokenType

DEFAULT_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


@dataclass(frozen=True)
class BpeVocab:
    """A byte-level BPE vocabulary as GGUF stores it (GPT-2's byte-to-unicode text form)."""

    tokens: tuple[str, ...]
    merges: tuple[str, ...]  # "left right", in merge-priority order
    token_types: tuple[int, ...]
    bos_id: int
    eos_id: int

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.token_types):
            raise ValueError("tokens and token_types differ in length")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("duplicate tokens")
        if not self.merges:
            raise ValueError("llama.cpp refuses a BPE vocabulary without merges")
        if not (0 <= self.bos_id < len(self.tokens) and 0 <= self.eos_id < len(self.tokens)):
            raise ValueError("bos_id/eos_id out of range")


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map (space is 'Ġ', newline 'Ċ')."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


def token_text(raw: bytes) -> str:
    """A token's bytes in the GPT-2 unicode form that GGUF vocabularies use."""
    table = bytes_to_unicode()
    return "".join(table[b] for b in raw)


def vocab_from_byte_merges(
    merges: Sequence[tuple[bytes, bytes]],
    *,
    specials: Sequence[str] = DEFAULT_SPECIALS,
    bos: str = "<|endoftext|>",
    eos: str = "<|im_end|>",
) -> BpeVocab:
    """Ids 0-255 are the raw bytes (id == byte value), then one token per merge, then specials.

    A trainer's own merges fit here, provided it split words the way llama.cpp's "gpt-2"
    pre-tokenizer does (merges never cross those word boundaries at inference time).
    """
    tokens = [token_text(bytes([b])) for b in range(256)]
    tokens += [token_text(a + b) for a, b in merges]
    types = [int(TokenType.NORMAL)] * len(tokens)
    tokens += specials
    types += [int(TokenType.CONTROL)] * len(specials)
    merge_texts = tuple(f"{token_text(a)} {token_text(b)}" for a, b in merges)
    index = {t: i for i, t in enumerate(tokens)}
    eos = eos if eos in index else bos
    return BpeVocab(tuple(tokens), merge_texts, tuple(types), index[bos], index[eos])


def byte_level_bpe_vocab(
    vocab_size: int,
    *,
    specials: Sequence[str] = DEFAULT_SPECIALS,
    bos: str = "<|endoftext|>",
    eos: str = "<|im_end|>",
) -> BpeVocab:
    """A deterministic vocabulary of exactly `vocab_size` tokens.

    The first merges are learned from a short built-in English text, so common words
    tokenize sensibly; the rest are letter-extensions of existing tokens, which only
    exist to reach real-model sizes (49152 for the SmolLM2-shaped benchmark).
    """
    n_merges = vocab_size - 256 - len(specials)
    if n_merges < 1:
        raise ValueError(f"vocab_size must be at least {257 + len(specials)}")
    learned = _learned_merges()[:n_merges]
    merges = learned + _padding_merges(learned, n_merges - len(learned))
    return vocab_from_byte_merges(merges, specials=specials, bos=bos, eos=eos)


_SAMPLE_TEXT = """\
A language model reads text as a sequence of tokens and learns to predict the next one.
The model is trained on a large amount of text from books, articles and the web. After
pretraining it can continue any text, but it is not yet an assistant. Then it is trained
on conversations between a user and an assistant, so that it answers questions, says when
it does not know something, and uses tools when it should. The weights of the model are
stored in a file, and a program such as llama.cpp loads the file and runs the model on the
computer. Each token the model writes is chosen from a probability distribution over the
whole vocabulary: the temperature makes the choice more or less random. This is how the
assistant in this lab was made, and you can try every step of it here on your own laptop.
"""
_WORDS = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+")
_LETTERS = b"etaoinshrdlcumwfgypbvkjxqz"


@lru_cache(maxsize=1)
def _learned_merges() -> list[tuple[bytes, bytes]]:
    """Plain BPE training (as in minbpe) until no pair occurs twice."""
    words = Counter(_WORDS.findall(_SAMPLE_TEXT))
    pieces = {w: [bytes([b]) for b in w.encode()] for w in words}
    merges: list[tuple[bytes, bytes]] = []
    while True:
        pairs: Counter[tuple[bytes, bytes]] = Counter()
        for word, count in words.items():
            seq = pieces[word]
            for pair in pairwise(seq):
                pairs[pair] += count
        if not pairs:
            return merges
        best, count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < 2:
            return merges
        merges.append(best)
        for word, seq in pieces.items():
            pieces[word] = _merge(seq, best)


def _merge(seq: list[bytes], pair: tuple[bytes, bytes]) -> list[bytes]:
    out: list[bytes] = []
    i = 0
    while i < len(seq):
        if i + 1 < len(seq) and (seq[i], seq[i + 1]) == pair:
            out.append(seq[i] + seq[i + 1])
            i += 2
        else:
            out.append(seq[i])
            i += 1
    return out


def _padding_merges(learned: list[tuple[bytes, bytes]], count: int) -> list[tuple[bytes, bytes]]:
    """Extend tokens by one letter at a time; every left side already exists as a token."""
    known = {bytes([b]) for b in range(256)} | {a + b for a, b in learned}
    frontier = [bytes([c]) for c in b" " + _LETTERS] + [a + b for a, b in learned]
    out: list[tuple[bytes, bytes]] = []
    while len(out) < count:
        grown: list[bytes] = []
        for left in frontier:
            for c in _LETTERS:
                token = left + bytes([c])
                if token in known:
                    continue
                known.add(token)
                grown.append(token)
                out.append((left, bytes([c])))
                if len(out) == count:
                    return out
        frontier = grown
    return out

"""Train a byte-level BPE tokenizer, as GPT-2, GPT-4 and Llama 3 tokenizers are made.

Byte-pair encoding in four steps:

1. Split the text into chunks with a regular expression (words with their leading space,
   runs of digits, punctuation, whitespace). Merges never cross a chunk boundary, so
   "dog." and "dog!" share the token " dog" instead of each needing their own.
2. Start from the 256 possible bytes: any text at all can be written with them, so the
   tokenizer never meets an unknown character (an emoji is simply 4 byte tokens).
3. Count every adjacent pair of tokens, merge the most frequent pair into a new token,
   and repeat until the vocabulary is full. Merge number k becomes token 256 + k.
4. Reserve the special tokens of the chat format (`<|im_start|>` …) after the merges.
   They never come out of ordinary text: only the chat template writes them.

Encoding new text replays the merges in the order they were learned. This module does
the learning in plain Python (readable, and fast enough: it counts pairs once per
*distinct* chunk, weighted by how often the chunk occurs, and after each merge updates
only the counts that changed); encoding goes through tiktoken's Rust encoder.

The same vocabulary is exported to GGUF (`to_bpe_vocab`), where llama.cpp's "gpt2"
tokenizer replays the merges itself. It must split text into exactly the same chunks as
tiktoken does here, so the pattern is one that llama.cpp implements by hand, selected by
the GGUF's `tokenizer.ggml.pre` (`PRE_TOKENIZERS`, `TrainedTokenizer.gguf_pre`). The
tests prove that llama.cpp then gives the same ids as tiktoken, token for token.
"""

from __future__ import annotations

import heapq
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regex

from desktop.core.atomic_files import write_text_atomically
from desktop.core.bpe_vocab import (
    DEFAULT_SPECIALS,
    BpeVocab,
    bytes_to_unicode,
    token_text,
    vocab_from_byte_merges,
)
from desktop.core.train.text_parts import text_parts

if TYPE_CHECKING:
    import tiktoken

# GPT-4 / Llama 3 style: contractions (either case), a word with at most one leading
# non-letter (usually its space), numbers in groups of at most three digits (so "1234567"
# is "123", "456", "7": arithmetic sees the same few number tokens over and over),
# punctuation with the newlines after it, newlines with the spaces before them, and other
# whitespace. Written exactly as llama.cpp's hand-written "llama-bpe" splitter spells it
# (`'[sS]` rather than `(?i:'s)`: case-insensitive matching would also take "'ſ").
LLAMA3_PATTERN = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
    r"|[^\r\n\p{L}\p{N}]?\p{L}+"
    r"|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+"
)
# GPT-2's pattern (tiktoken's r50k_base): lowercase contractions, " word", " 12345",
# " ?!.", whitespace. Simpler, but digits stay in one chunk however long the number is.
GPT2_PATTERN = r"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

# The `tokenizer.ggml.pre` value that makes llama.cpp split text as each pattern does
# (each has a hand-written splitter in llama.cpp's unicode.cpp). "llama-bpe" also makes
# llama.cpp take a chunk that is a whole token as is, before any merging, as tiktoken does.
PRE_TOKENIZERS = {LLAMA3_PATTERN: "llama-bpe", GPT2_PATTERN: "gpt-2"}
DEFAULT_PATTERN = LLAMA3_PATTERN

CHAT_SPECIALS = DEFAULT_SPECIALS  # ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
MAX_VOCAB_SIZE = 8192
FILE_FORMAT = "deepdive-bpe"
FILE_VERSION = 1

Pair = tuple[int, int]


class TrainingCancelled(Exception):
    """The `cancelled` callback said stop; nothing was learned."""


@dataclass(frozen=True)
class TrainedTokenizer:
    """A learned vocabulary: ids 0-255 are the bytes (id == byte value), then one token per
    merge in the order learned, then the special tokens.

    `merges` is what was learned; `ranks` and `special_tokens` are the same vocabulary in
    the form tiktoken takes, and `to_bpe_vocab` the form GGUF stores.
    """

    merges: tuple[Pair, ...]  # merge k joins tokens (left, right) into token 256 + k
    specials: tuple[str, ...]
    pattern: str = DEFAULT_PATTERN
    name: str = "deepdive-bpe"
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_specials(self.specials)
        for k, (left, right) in enumerate(self.merges):
            if not (0 <= left < 256 + k and 0 <= right < 256 + k):
                raise ValueError(f"merge {k} uses a token that does not exist yet")
        if len(set(self.token_bytes)) != len(self.token_bytes):
            raise ValueError("two merges make the same token")

    # --- the vocabulary in its different spellings ---

    @property
    def n_vocab(self) -> int:
        return 256 + len(self.merges) + len(self.specials)

    @cached_property
    def token_bytes(self) -> tuple[bytes, ...]:
        """Every ordinary token's bytes, by id: the bytes, then each merge's two parts joined."""
        out = [bytes([b]) for b in range(256)]
        for left, right in self.merges:
            out.append(out[left] + out[right])
        return tuple(out)

    @property
    def ranks(self) -> dict[bytes, int]:
        """tiktoken's `mergeable_ranks`: token bytes -> id. tiktoken merges the adjacent pair
        whose joined bytes have the lowest rank first, which replays our merges in order."""
        return {token: i for i, token in enumerate(self.token_bytes)}

    @property
    def special_tokens(self) -> dict[str, int]:
        first = 256 + len(self.merges)
        return {text: first + i for i, text in enumerate(self.specials)}

    @property
    def gguf_pre(self) -> str:
        """The `tokenizer.ggml.pre` value llama.cpp needs to split text as `pattern` does."""
        try:
            return PRE_TOKENIZERS[self.pattern]
        except KeyError:
            raise ValueError("llama.cpp has no pre-tokenizer for this pattern") from None

    def encoding(self) -> tiktoken.Encoding:
        """A tiktoken encoding of this vocabulary (built once, then reused)."""
        cached = self._cache.get("encoding")
        if cached is None:
            import tiktoken

            cached = tiktoken.Encoding(
                name=self.name,
                pat_str=self.pattern,
                mergeable_ranks=self.ranks,
                special_tokens=self.special_tokens,
            )
            self._cache["encoding"] = cached
        encoding: tiktoken.Encoding = cached
        return encoding

    def encode(self, text: str, *, allow_special: bool = False) -> list[int]:
        """`allow_special`: "<|im_end|>" in the text becomes that special token; otherwise it
        is ordinary text (as anything a user types must be)."""
        if allow_special:
            return self.encoding().encode(text, allowed_special="all")
        return self.encoding().encode_ordinary(text)

    def decode(self, ids: Iterable[int]) -> str:
        """Token ids back to text; a token sequence cut inside a character shows U+FFFD."""
        return self.encoding().decode(list(ids))

    def to_bpe_vocab(self, *, bos: str = "<|endoftext|>", eos: str = "<|im_end|>") -> BpeVocab:
        """The vocabulary as `write_vocab_gguf` / `write_llama_gguf` write it: tokens in GPT-2's
        byte-to-unicode text, merges as "left right" in the order learned, specials typed
        CONTROL (matched only when the caller asks for special tokens). A missing `eos`
        falls back to `bos`, a missing `bos` to the first special token."""
        table = self.token_bytes
        merges = [(table[left], table[right]) for left, right in self.merges]
        bos = bos if bos in self.specials else self.specials[0]
        return vocab_from_byte_merges(merges, specials=self.specials, bos=bos, eos=eos)

    # --- files ---

    def save(self, path: str | os.PathLike[str]) -> None:
        """A small JSON file, written atomically. The merges are spelled as in GGUF and
        Hugging Face's merges.txt ("Ġ t" joins " " and "t"), so the file reads as a list of
        what was learned, in order."""
        table = self.token_bytes
        data = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "name": self.name,
            "pattern": self.pattern,
            "special_tokens": list(self.specials),
            "merges": [f"{token_text(table[a])} {token_text(table[b])}" for a, b in self.merges],
        }
        write_text_atomically(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainedTokenizer:
        """Read a file written by `save`; ValueError if it is not one."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} is not a tokenizer file ({e})") from e
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise ValueError(f"{path} is not a tokenizer file")
        if data.get("version") != FILE_VERSION:
            raise ValueError(f"{path}: unknown tokenizer file version {data.get('version')!r}")
        try:
            return cls(
                merges=_merges_from_text(data["merges"]),
                specials=tuple(str(s) for s in data["special_tokens"]),
                pattern=str(data["pattern"]),
                name=str(data["name"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: damaged tokenizer file ({e})") from e


def _check_specials(specials: Sequence[str]) -> None:
    if not specials:
        raise ValueError("at least one special token is needed (llama.cpp wants a BOS/EOS)")
    if len(set(specials)) != len(specials) or not all(specials):
        raise ValueError("special tokens must be distinct and not empty")


def _merges_from_text(lines: Iterable[str]) -> tuple[Pair, ...]:
    """Merges spelled "Ġ t" back to pairs of ids; each may only use tokens made before it."""
    to_byte = {char: b for b, char in bytes_to_unicode().items()}
    ids = {bytes([b]): b for b in range(256)}
    merges: list[Pair] = []
    for line in lines:
        left_text, right_text = line.split(" ")
        left = bytes(to_byte[c] for c in left_text)
        right = bytes(to_byte[c] for c in right_text)
        merges.append((ids[left], ids[right]))
        ids[left + right] = 256 + len(merges) - 1
    return tuple(merges)


# --- training ---


def train_bpe(
    text: str,
    vocab_size: int,
    *,
    special_tokens: Sequence[str] = CHAT_SPECIALS,
    pattern: str = DEFAULT_PATTERN,
    name: str = "deepdive-bpe",
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> TrainedTokenizer:
    """Learn `vocab_size - 256 - len(special_tokens)` merges from `text`.

    Deterministic: the most frequent pair wins, and a tie goes to the pair with the
    smallest (left id, right id), so the same text and settings always give the same
    merges. If the text runs out of pairs first (a tiny text), the vocabulary is smaller
    than asked: `n_vocab` says how big it is. `progress(merges_done, merges_wanted)` is
    called now and then; `cancelled()` returning True raises `TrainingCancelled`.
    """
    specials = tuple(special_tokens)
    _check_specials(specials)
    smallest = 256 + len(specials)
    if not smallest <= vocab_size <= MAX_VOCAB_SIZE:
        raise ValueError(f"vocab_size must be between {smallest} and {MAX_VOCAB_SIZE}")
    wanted = vocab_size - smallest
    chunks = _chunk_counts(text, pattern, specials)
    merges = _learn_merges(chunks, wanted, progress, cancelled)
    return TrainedTokenizer(merges=merges, specials=specials, pattern=pattern, name=name)


def _chunk_counts(text: str, pattern: str, specials: Sequence[str]) -> Counter[bytes]:
    """How often each distinct chunk occurs. Special tokens are cut out first: the chat
    template writes them, so the merges must not learn to spell them."""
    pieces = re.split("|".join(map(re.escape, specials)), text)
    splitter = regex.compile(pattern)
    counts: Counter[str] = Counter()
    for piece in pieces:
        for part in text_parts(piece):  # short calls: the GIL goes back to the window
            counts.update(splitter.findall(part))
    return Counter({chunk.encode("utf-8"): n for chunk, n in counts.items()})


def _learn_merges(
    chunks: Counter[bytes],
    wanted: int,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
) -> tuple[Pair, ...]:
    """The BPE loop, with incremental pair counts.

    `words[w]` is a distinct chunk as a list of token ids, occurring `freq[w]` times.
    `counts[pair]` is how often the pair occurs in the whole text, and `where[pair]` the
    chunks that (may) contain it, so a merge only revisits those chunks. A heap finds the
    most frequent pair; it keeps out-of-date entries and skips them when they surface
    (cheaper than removing them).
    """
    # Sorted, so that every run visits chunks in the same order (not that the counts
    # depend on it); single-byte chunks have no pairs and never change.
    ordered = sorted((c, n) for c, n in chunks.items() if len(c) > 1)
    words = [list(chunk) for chunk, _ in ordered]
    freq = [n for _, n in ordered]
    counts: dict[Pair, int] = {}
    where: dict[Pair, set[int]] = {}
    for w, word in enumerate(words):
        for pair in pairwise(word):
            counts[pair] = counts.get(pair, 0) + freq[w]
            where.setdefault(pair, set()).add(w)
    heap = [(-n, pair) for pair, n in counts.items()]
    heapq.heapify(heap)

    token_bytes = [bytes([b]) for b in range(256)]
    known = set(token_bytes)
    merges: list[Pair] = []
    report_every = max(1, wanted // 200)
    if progress is not None:
        progress(0, wanted)
    while len(merges) < wanted:
        if cancelled is not None and cancelled():
            raise TrainingCancelled()
        best = _pop_best(heap, counts, token_bytes, known)
        if best is None:
            break  # every chunk is a single token: nothing left to merge
        new_id = 256 + len(merges)
        merges.append(best)
        token_bytes.append(token_bytes[best[0]] + token_bytes[best[1]])
        known.add(token_bytes[-1])
        changed = _apply_merge(best, new_id, words, freq, counts, where)
        for pair in changed:
            n = counts.get(pair, 0)
            if n > 0:
                heapq.heappush(heap, (-n, pair))
        if progress is not None and (len(merges) % report_every == 0 or len(merges) == wanted):
            progress(len(merges), wanted)
    return tuple(merges)


def _pop_best(
    heap: list[tuple[int, Pair]],
    counts: dict[Pair, int],
    token_bytes: list[bytes],
    known: set[bytes],
) -> Pair | None:
    """The most frequent pair (smallest ids on a tie), skipping out-of-date heap entries.

    A pair whose joined bytes already are a token (made earlier from a different split) is
    skipped: tiktoken keys tokens by their bytes, so a token can have only one id. (On real
    text this does not seem to happen: BPE reaches a given string by one route only.)
    """
    while heap:
        negative, pair = heapq.heappop(heap)
        if counts.get(pair, 0) != -negative:
            continue  # stale: the count changed after this entry was pushed
        if token_bytes[pair[0]] + token_bytes[pair[1]] in known:
            continue
        return pair
    return None


def _apply_merge(
    pair: Pair,
    new_id: int,
    words: list[list[int]],
    freq: list[int],
    counts: dict[Pair, int],
    where: dict[Pair, set[int]],
) -> set[Pair]:
    """Replace `pair` by `new_id` in every chunk that has it; returns the pairs whose count
    changed. Each changed chunk's pairs are counted before and after, and only the
    difference is applied to the totals."""
    changed: set[Pair] = set()
    for w in sorted(where.pop(pair, ())):
        old = words[w]
        new = _merge(old, pair, new_id)
        if len(new) == len(old):
            continue  # a stale entry in `where`: the pair left this chunk earlier
        words[w] = new
        delta = Counter(pairwise(new))
        delta.subtract(pairwise(old))
        for p, d in delta.items():
            if d:
                counts[p] = counts.get(p, 0) + d * freq[w]
                changed.add(p)
                if d > 0:
                    where.setdefault(p, set()).add(w)
    counts.pop(pair, None)
    changed.discard(pair)
    return changed


def _merge(word: list[int], pair: Pair, new_id: int) -> list[int]:
    """Left to right, as the encoder does: in "aaa", merging (a, a) gives [aa, a]."""
    out: list[int] = []
    i = 0
    left, right = pair
    while i < len(word):
        if i + 1 < len(word) and word[i] == left and word[i + 1] == right:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out

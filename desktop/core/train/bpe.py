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
only the counts that changed). The result is a `TrainedTokenizer` (trained_tokenizer.py),
which encodes through tiktoken's Rust encoder, saves to a file and exports to GGUF.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import pairwise

import regex

from desktop.core.models.bpe_vocab import DEFAULT_SPECIALS
from desktop.core.train.text_parts import text_parts
from desktop.core.train.trained_tokenizer import (
    DEFAULT_PATTERN,
    Pair,
    TrainedTokenizer,
    check_specials,
)

CHAT_SPECIALS = DEFAULT_SPECIALS  # ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
MAX_VOCAB_SIZE = 8192


class TrainingCancelled(Exception):
    """The `cancelled` callback said stop; nothing was learned."""


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
    check_specials(specials)
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

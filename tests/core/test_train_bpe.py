"""Training a byte-level BPE tokenizer: deterministic, exact round trips, and the same ids
from tiktoken, from a from-scratch reference encoder, and from llama.cpp reading our GGUF."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
import regex
from gguf import GGUFReader, TokenType

from desktop.core.models.bpe_vocab import token_text
from desktop.core.models.gguf_writer import write_vocab_gguf
from desktop.core.train.bpe import CHAT_SPECIALS, MAX_VOCAB_SIZE, TrainingCancelled, train_bpe
from desktop.core.train.trained_tokenizer import (
    GPT2_PATTERN,
    LLAMA3_PATTERN,
    PRE_TOKENIZERS,
    TrainedTokenizer,
)
from tests.gguf_fixtures import TINY_SHAPE
from tests.llama_child import in_child, llama_tokenize, llama_vocab_facts

PARAGRAPH = """\
A language model reads text as a sequence of tokens and learns to predict the next one.
It's trained on books, articles and code; it doesn't know what it hasn't seen. In 2024 a
small model had 135 million parameters and cost $3.14 per hour to train on 8 GPUs, while
the big ones cost 1,000,000 times more. The tokenizer (byte-pair encoding) merges frequent
pairs of bytes: "th", "e ", " the"... until the vocabulary is full. Café, naïve, résumé and
Zürich are words too; so are 東京 and Москва, and even 🍓 is four bytes.
"""
CODE = """\
def tokenize(text: str) -> list[int]:
    ids = []
\tfor chunk in split(text):
        if chunk in cache:
            ids.extend(cache[chunk])
    return ids  # 42
"""
SYLLABLES = ["ka", "to", "ren", "mi", "sol", "da", "vu", "qua", "ex", "lo", "pri", "zen", "th"]

VARIED_TEXTS = [
    "The quick brown fox jumps over the lazy dog. It's a dog's life, isn't it?",
    "def f(x):\n\tif x > 0:\n\t\treturn x * 2\n    else:\n        return None\n",
    "1234567 and 3.14 and 1,000,000 and 2024-01-31 and 0.001 and 99999999999",
    "don't DON'T we'll WE'LL I'm you're they've she'd 'tis O'Neill",
    "a  b   c    d     e",
    "   leading and trailing   ",
    "line\nline\n\n\nthree\r\nwindows\r\n\r\n",
    "\t\tindent\t tab \t",
    " ",
    "",
    "\n",
    "café naïve résumé — “quotes” … €100 ½",
    "東京は日本の首都です。中文也可以。",
    "emoji 👩\u200d💻🎉 and a flag 🇫🇷!!",
    "combining e\u0301 a\u0308 n\u0303 \u0301alone",
    "Ελληνικά русский عربى हिन्दी ไทย",
    "no-break\u00a0space, thin\u2009space, ideographic\u3000space, x\u2028y",
    "<|im_start|>user\nhi<|im_end|>",
    "=== ... !!! ??? ;;; (( )) [[ ]] {{ }}",
    "MiXeD CaSe, UPPER CASE, lower case; ALL'S well",
]

# Characters for random strings: ASCII (weighted), accented Latin, combining marks, Greek,
# Cyrillic, Arabic, Devanagari, kana, CJK, emoji, and whitespace of every kind.
_ALPHABET = (
    [chr(c) for c in range(32, 127)] * 4
    + [chr(c) for c in range(0xA0, 0x250, 3)]
    + [chr(c) for c in range(0x300, 0x370, 5)]
    + [chr(c) for c in range(0x391, 0x3CA, 3)]
    + [chr(c) for c in range(0x410, 0x450, 2)]
    + [chr(c) for c in range(0x620, 0x64B, 2)]
    + [chr(c) for c in range(0x905, 0x940, 3)]
    + [chr(c) for c in range(0x3041, 0x3097, 4)]
    + [chr(c) for c in range(0x4E00, 0x4E80, 4)]
    + [chr(c) for c in range(0x1F600, 0x1F650, 4)]
    + ["\n", "\r\n", "\r", "\t", "  ", "    ", "\u00a0", "\u2028", "\u3000", "\x0b", "\x0c"]
    + ["\x85", "\x1c", "'s", "'S", "'ll", "'LL", "'d", "123", "4567", " 89", "\u200d"]
)


def _random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(_ALPHABET, k=rng.randint(1, 40))) for _ in range(n)]


def _corpus(size: int = 300_000, seed: int = 0) -> str:
    """A few hundred KB of varied text from the paragraph: its words reshuffled into new
    sentences, made-up words and numbers (so there is always something new to merge), now
    and then the code sample, and chat-formatted turns with the special tokens in them."""
    rng = random.Random(seed)
    words = PARAGRAPH.split()
    parts: list[str] = []
    total = 0
    while total < size:
        sentence = [rng.choice(words) for _ in range(rng.randint(4, 14))]
        for i in range(len(sentence)):
            roll = rng.random()
            if roll < 0.08:
                sentence[i] = "".join(rng.choices(SYLLABLES, k=rng.randint(1, 4)))
            elif roll < 0.12:
                sentence[i] = str(rng.randint(0, 10 ** rng.randint(1, 7)))
        line = " ".join(sentence).capitalize() + rng.choice([".", "!", "?", ":", "\n", ".\n\n"])
        if rng.random() < 0.03:
            line += "\n" + CODE
        if rng.random() < 0.03:
            line = f"<|im_start|>user\n{line}<|im_end|>\n<|im_start|>assistant\n"
        parts.append(line)
        total += len(line)
    return " ".join(parts)


Trained = Callable[[str], TrainedTokenizer]  # the `trained` fixture: pattern -> tokenizer
PATTERNS = [pytest.param(LLAMA3_PATTERN, id="llama-bpe"), pytest.param(GPT2_PATTERN, id="gpt-2")]


@pytest.fixture(scope="module")
def corpus() -> str:
    return _corpus()


@pytest.fixture(scope="module")
def trained(corpus: str) -> Trained:
    """One tokenizer (1024 tokens) per pattern, trained once for the whole module."""
    cache: dict[str, TrainedTokenizer] = {}

    def get(pattern: str) -> TrainedTokenizer:
        if pattern not in cache:
            cache[pattern] = train_bpe(corpus, 1024, pattern=pattern)
        return cache[pattern]

    return get


# --- references written from scratch, as plainly as possible ---


def naive_train(text: str, n_merges: int, pattern: str) -> list[tuple[int, int]]:
    """Textbook BPE: recount every pair over every chunk, merge the most frequent."""
    pieces = regex.split(r"<\|\w+\|>", text)  # the special tokens are not trained on
    chunks = [list(c.encode()) for p in pieces for c in regex.findall(pattern, p)]
    merges: list[tuple[int, int]] = []
    for new_id in range(256, 256 + n_merges):
        counts: dict[tuple[int, int], int] = {}
        for ids in chunks:
            for pair in pairwise(ids):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))  # most frequent, then smallest ids
        merges.append(best)
        chunks = [_merge(ids, best, new_id) for ids in chunks]
    return merges


def naive_encode(tok: TrainedTokenizer, text: str) -> list[int]:
    """Split with the pattern, then in each chunk apply the earliest-learned merge that
    occurs (leftmost first) until none does: how llama.cpp's "gpt2" tokenizer works."""
    rank = {pair: 256 + k for k, pair in enumerate(tok.merges)}
    out: list[int] = []
    for chunk in regex.findall(tok.pattern, text):
        ids = list(chunk.encode())
        while True:
            found = [(rank[p], i) for i, p in enumerate(pairwise(ids)) if p in rank]
            if not found:
                break
            new_id, i = min(found)
            ids[i : i + 2] = [new_id]
        out += ids
    return out


def _merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    out: list[int] = []
    i = 0
    while i < len(ids):
        if tuple(ids[i : i + 2]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


# --- training ---


def test_training_is_deterministic_and_fills_the_vocabulary(corpus: str) -> None:
    text = corpus[:100_000]
    first = train_bpe(text, 700)
    second = train_bpe(text, 700)
    assert first.merges == second.merges and first == second
    assert first.n_vocab == 700 == first.encoding().n_vocab
    assert len(first.merges) == 700 - 256 - 3
    assert first.special_tokens == {"<|endoftext|>": 697, "<|im_start|>": 698, "<|im_end|>": 699}
    assert first.ranks[b" the"] >= 256 and first.ranks[b"a"] == ord("a")
    assert sorted(first.ranks.values()) == list(range(697))  # no gaps, no repeats


@pytest.mark.parametrize("pattern", PATTERNS)
def test_incremental_counts_equal_a_full_recount(corpus: str, pattern: str) -> None:
    text = corpus[:12_000]
    tok = train_bpe(text, 256 + 3 + 120, pattern=pattern)
    assert list(tok.merges) == naive_train(text, 120, pattern)


def test_special_tokens_are_reserved_not_learned(
    trained: Trained,
) -> None:
    tok = trained(LLAMA3_PATTERN)
    assert not any(b"<|im_" in t or b"|>" in t for t in tok.token_bytes)  # cut out before training
    chat = "<|im_start|>user\nhello<|im_end|>"
    ids = tok.encode(chat, allow_special=True)
    assert (
        ids[0] == tok.special_tokens["<|im_start|>"] and ids[-1] == tok.special_tokens["<|im_end|>"]
    )
    assert set(tok.encode(chat)).isdisjoint(tok.special_tokens.values())  # typed text stays text
    assert tok.decode(ids) == chat


def test_custom_specials_and_a_text_too_small_for_the_vocabulary() -> None:
    tok = train_bpe("abab abab", 400, special_tokens=["<|end|>"])
    assert tok.n_vocab < 400  # ran out of pairs: every chunk is a single token now
    assert tok.encode("abab abab") == [256 + len(tok.merges) - 2, 256 + len(tok.merges) - 1]
    assert tok.special_tokens == {"<|end|>": tok.n_vocab - 1}
    with pytest.raises(ValueError):
        train_bpe("abc", 258)  # not even room for the bytes and the 3 specials
    with pytest.raises(ValueError):
        train_bpe("abc", MAX_VOCAB_SIZE + 1)
    with pytest.raises(ValueError):
        train_bpe("abc", 300, special_tokens=[])
    with pytest.raises(ValueError):
        train_bpe("abc", 300, special_tokens=["<|end|>", ""])


def test_progress_and_cancel(corpus: str) -> None:
    seen: list[tuple[int, int]] = []
    train_bpe(corpus[:30_000], 259 + 100, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 100) and seen[-1] == (100, 100)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    calls = iter(range(1000))
    with pytest.raises(TrainingCancelled):
        train_bpe(corpus[:30_000], 400, cancelled=lambda: next(calls) == 10)


# --- encoding ---


@pytest.mark.parametrize("pattern", PATTERNS)
def test_round_trip_of_arbitrary_utf8(trained: Trained, pattern: str) -> None:
    tok = trained(pattern)
    for text in VARIED_TEXTS + _random_texts(400, seed=1):
        ids = tok.encode(text)
        assert all(0 <= i < tok.n_vocab for i in ids)
        assert tok.decode(ids) == text
        assert b"".join(tok.token_bytes[i] for i in ids) == text.encode()


@pytest.mark.parametrize("pattern", PATTERNS)
def test_tiktoken_ids_equal_a_naive_bpe_encoder(
    trained: Trained, corpus: str, pattern: str
) -> None:
    tok = trained(pattern)
    texts = [*VARIED_TEXTS, *_random_texts(400, seed=2), PARAGRAPH, CODE, corpus[-20_000:]]
    for text in texts:
        assert tok.encode(text) == naive_encode(tok, text), repr(text[:60])


def test_numbers_split_in_threes_with_the_llama3_pattern(
    trained: Trained,
) -> None:
    tok = trained(LLAMA3_PATTERN)
    pieces = [tok.decode([i]) for i in tok.encode("1234567")]
    assert "".join(pieces) == "1234567" and all(len(p) <= 3 for p in pieces)


# --- files and GGUF ---


def test_save_and_load(trained: Trained, tmp_path: Path) -> None:
    tok = trained(GPT2_PATTERN)
    path = tmp_path / "tokenizer.json"
    tok.save(path)
    loaded = TrainedTokenizer.load(path)
    assert loaded == tok and loaded.encode(PARAGRAPH) == tok.encode(PARAGRAPH)
    data = json.loads(path.read_text(encoding="utf-8"))
    a, b = tok.merges[0]
    assert data["merges"][0] == f"{token_text(tok.token_bytes[a])} {token_text(tok.token_bytes[b])}"
    assert [p.name for p in tmp_path.iterdir()] == ["tokenizer.json"]  # no temporary left
    for damaged in ("", "{}", '{"format": "deepdive-bpe", "version": 1}', "\x00\xff"):
        path.write_text(damaged, encoding="latin-1")
        with pytest.raises(ValueError):
            TrainedTokenizer.load(path)
    data["merges"][3] = "nonexistent token"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError):
        TrainedTokenizer.load(path)


def test_bpe_vocab_for_gguf(trained: Trained) -> None:
    tok = trained(LLAMA3_PATTERN)
    vocab = tok.to_bpe_vocab()
    assert len(vocab.tokens) == tok.n_vocab and len(vocab.merges) == len(tok.merges)
    assert vocab.tokens[32] == "Ġ" and vocab.tokens[10] == "Ċ"
    for k, (a, b) in enumerate(tok.merges):
        left, right = token_text(tok.token_bytes[a]), token_text(tok.token_bytes[b])
        assert vocab.merges[k] == f"{left} {right}" and vocab.tokens[256 + k] == left + right
    specials = tok.special_tokens
    assert vocab.tokens[-3:] == CHAT_SPECIALS
    assert vocab.token_types[-3:] == (int(TokenType.CONTROL),) * 3
    assert set(vocab.token_types[:-3]) == {int(TokenType.NORMAL)}
    assert (vocab.bos_id, vocab.eos_id) == (specials["<|endoftext|>"], specials["<|im_end|>"])


def _export(path: Path, tok: TrainedTokenizer, pre: str) -> None:
    """Through the app's own writer, with the pre-tokenizer the test asks for."""
    shape = replace(TINY_SHAPE, vocab_size=tok.n_vocab)
    write_vocab_gguf(path, shape, tok.to_bpe_vocab(), pre=pre)
    assert GGUFReader(path).fields["tokenizer.ggml.pre"].contents() == pre


@pytest.mark.parametrize("pattern", PATTERNS)
def test_llama_cpp_tokenizes_exactly_as_we_do(
    trained: Trained, corpus: str, pattern: str, tmp_path: Path
) -> None:
    tok = trained(pattern)
    path = tmp_path / f"vocab-{tok.gguf_pre}.gguf"
    _export(path, tok, tok.gguf_pre)
    texts = [*VARIED_TEXTS, *_random_texts(400, seed=3), PARAGRAPH, CODE, corpus[:50_000]]
    chat = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n12345 don't<|im_end|>\n"
    facts = in_child(llama_vocab_facts, str(path), texts, [chat, "<|im_start|>"])
    for text, ids in zip(texts, facts["plain"], strict=True):
        assert ids == tok.encode(text), repr(text[:60])
    assert facts["special"][0] == tok.encode(chat, allow_special=True)
    assert facts["special"][1] == [tok.special_tokens["<|im_start|>"]]
    assert facts["bos"] == tok.special_tokens["<|endoftext|>"]
    assert facts["eos"] == tok.special_tokens["<|im_end|>"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_other_pre_tokenizer_disagrees(trained: Trained, pattern: str, tmp_path: Path) -> None:
    """The check above has teeth: the wrong `tokenizer.ggml.pre` splits differently."""
    tok = trained(pattern)
    (wrong,) = set(PRE_TOKENIZERS.values()) - {tok.gguf_pre}
    path = tmp_path / f"vocab-{wrong}.gguf"
    _export(path, tok, wrong)
    text = "Numbers like 1234567 don'T\n\n  split alike.\n"
    [theirs] = in_child(llama_tokenize, str(path), [text])
    assert theirs != tok.encode(text)

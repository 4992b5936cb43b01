"""Text parts tokenize exactly as the whole text does (pre-split pieces and ids)."""

from __future__ import annotations

import random

import regex

from desktop.core.train.bpe import train_bpe
from desktop.core.train.text_parts import text_parts

WORDS = ["alpha", "Beta", " gamma", "42", "3.14", "don't", "naïve", "日本", "🙂", "x_y", "..."]
GLUE = [" ", "  ", "\n", "\n\n", "\n\n\n", " \n\n", "\n\n ", "\t", ".\n\n", ":\n\n  "]


def random_text(seed: int, n: int = 6000) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(WORDS) + rng.choice(GLUE) for _ in range(n))


def test_parts_are_the_whole_text_cut_after_blank_lines() -> None:
    text = random_text(0)
    parts = list(text_parts(text, size=500))
    assert "".join(parts) == text and len(parts) > 10
    for part in parts[:-1]:
        assert part.endswith("\n\n") and len(part) >= 500
    assert list(text_parts("short")) == ["short"]
    assert list(text_parts("")) == [""]


def test_parts_pre_split_and_encode_like_the_whole() -> None:
    tokenizer = train_bpe(random_text(1), 400)
    splitter = regex.compile(tokenizer.pattern)
    for seed in range(2, 6):
        text = random_text(seed)
        parts = list(text_parts(text, size=300))
        assert [p for part in parts for p in splitter.findall(part)] == splitter.findall(text)
        assert [i for part in parts for i in tokenizer.encode(part)] == tokenizer.encode(text)

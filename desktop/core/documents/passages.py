"""Documents cut into passages: the unit that BM25 ranks, that fits into a prompt when a
whole document does not, and that an answer cites by its id (`velmora:3`).

A passage is a run of whole paragraphs up to about TARGET_CHARS; a longer paragraph is
cut between sentences, and a "sentence" with no end (a minified file) at a hard limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TARGET_CHARS = 700
HARD_LIMIT = 1500
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Passage:
    id: str  # "<document key>:<n>", n from 1
    title: str  # the document's title
    source: str  # its file name (or "Quiz article")
    text: str

    @property
    def number(self) -> int:
        return int(self.id.rsplit(":", 1)[1])


def document_key(name: str, taken: Iterable[str] = ()) -> str:
    """A short id for a document out of its file name: `velmora.md` -> `velmora`, unique
    among `taken` (a number added when needed)."""
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    key = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")[:24] or "doc"
    taken = set(taken)
    unique, n = key, 2
    while unique in taken:
        unique, n = f"{key}_{n}", n + 1
    return unique


def _pieces(paragraph: str) -> list[str]:
    """A paragraph no longer than HARD_LIMIT, or its sentences grouped under TARGET_CHARS."""
    if len(paragraph) <= TARGET_CHARS:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > HARD_LIMIT:  # no sentence ends in sight: cut it
            pieces.append(sentence[:HARD_LIMIT])
            sentence = sentence[HARD_LIMIT:]
        if current and len(current) + 1 + len(sentence) > TARGET_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        pieces.append(current)
    return pieces


def split_passages(text: str, key: str, title: str, source: str) -> list[Passage]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    chunks: list[str] = []
    current = ""
    for paragraph in paragraphs:
        for piece in _pieces(paragraph):
            if current and len(current) + 2 + len(piece) > TARGET_CHARS:
                chunks.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return [Passage(f"{key}:{n}", title, source, chunk) for n, chunk in enumerate(chunks, 1)]


def passages_of(documents: Sequence[tuple[str, str, str]]) -> list[Passage]:
    """Passages of several (name, title, text) documents, each with its own key."""
    keys: list[str] = []
    passages: list[Passage] = []
    for name, title, text in documents:
        keys.append(document_key(name, keys))
        passages += split_passages(text, keys[-1], title, name)
    return passages

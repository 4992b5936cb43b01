"""Passages ranked by BM25 for a question, with `bm25s` (numpy only, fast on sparse
matrices): the classic lexical ranking — words the question shares with a passage count
more when they are rare in the collection and when the passage is short.

The words are our own (lower-case letters and digits, English stop words out), so a
question and its passages are always split the same way; single digits stay ("3 r's").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from desktop.core.documents.passages import Passage

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Ranked:
    passage: Passage
    score: float


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def words(text: str) -> list[str]:
    stop = _stop_words()
    return [w for w in _WORD.findall(text.lower()) if w not in stop and len(w) < 40]


class PassageIndex:
    """A BM25 index over fixed passages; build once, ask many questions."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        import bm25s

        self.passages = list(passages)
        self._index: Any = None
        corpus = [words(p.text) or ["\0"] for p in self.passages]  # bm25s wants a word each
        if corpus:
            self._index = bm25s.BM25()
            self._index.index(corpus, show_progress=False)

    def rank(self, question: str, limit: int | None = None) -> list[Ranked]:
        """Passages sharing a word with the question, best first (ties: document order)."""
        query = words(question)
        if self._index is None or not query:
            return []
        scores = self._index.get_scores(query)
        order = sorted(range(len(self.passages)), key=lambda i: (-float(scores[i]), i))
        ranked = [Ranked(self.passages[i], float(scores[i])) for i in order if scores[i] > 0]
        return ranked[:limit] if limit is not None else ranked

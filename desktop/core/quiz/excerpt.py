"""Open book on a small context: when the whole article does not fit in the prompt, give the
model the paragraphs that share the most words with the question (a tiny retrieval step,
the same idea as RAG), in the article's order, up to a character budget."""

from __future__ import annotations

import re

from desktop.core.quiz.grading import answer_tokens

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_COMMON = {"what", "which", "who", "whom", "when", "where", "why", "how", "many", "much",
           "about", "fill", "blank", "in", "of", "on", "at", "to", "and", "or", "for", "with",
           "did", "does", "do", "was", "is", "are", "were", "a", "an", "the", "year"}  # fmt: skip


def article_excerpt(article: str, question: str, max_chars: int) -> str:
    if len(article) <= max_chars:
        return article
    words = {w for w in answer_tokens(question) if w not in _COMMON}
    pieces = _pieces(article, max_chars)
    ranked = sorted(
        range(len(pieces)),
        key=lambda i: (-len(words & set(answer_tokens(pieces[i]))), i),
    )
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if used + len(pieces[i]) + 2 <= max_chars:
            chosen.append(i)
            used += len(pieces[i]) + 2
    return "\n\n".join(pieces[i] for i in sorted(chosen))


def _pieces(article: str, max_chars: int) -> list[str]:
    """Paragraphs, with any longer than the budget cut at sentence ends (and a sentence
    longer than the budget cut hard)."""
    pieces: list[str] = []
    for paragraph in (p.strip() for p in article.split("\n\n")):
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            pieces.append(paragraph)
            continue
        current = ""
        for sentence in _SENTENCE_END.split(paragraph):
            sentence = sentence[:max_chars]
            if current and len(current) + 1 + len(sentence) > max_chars:
                pieces.append(current)
                current = ""
            current = f"{current} {sentence}".strip()
        if current:
            pieces.append(current)
    return pieces

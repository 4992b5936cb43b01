"""Open book on a small context: when the whole article does not fit in the prompt, give the
model the passages that share the most words with the question (a tiny retrieval step,
the same idea as RAG), in the article's order, up to a character budget."""

from __future__ import annotations

import re

from desktop.core.quiz.answer_normalisation import answer_tokens

# Sentence ends, including CJK full stops, and single line breaks (lists, poems, logs).
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*|\n")
_COMMON = {"what", "which", "who", "whom", "when", "where", "why", "how", "many", "much",
           "about", "fill", "blank", "in", "of", "on", "at", "to", "and", "or", "for", "with",
           "did", "does", "do", "was", "is", "are", "were", "a", "an", "the", "year"}  # fmt: skip


def article_excerpt(article: str, question: str, max_chars: int) -> str:
    """At most `max_chars` of the article, never empty for a non-empty article."""
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
        cost = len(pieces[i]) + (2 if chosen else 0)  # the blank line between pieces
        if used + cost <= max_chars:
            chosen.append(i)
            used += cost
    return "\n\n".join(pieces[i] for i in sorted(chosen))


def _pieces(article: str, max_chars: int) -> list[str]:
    """Paragraphs; one longer than the budget is cut at sentence ends or line breaks, and a
    sentence longer than the budget into windows of the budget (nothing is dropped)."""
    pieces: list[str] = []
    for paragraph in (p.strip() for p in article.split("\n\n")):
        if len(paragraph) <= max_chars:
            pieces += [paragraph] if paragraph else []
            continue
        current = ""
        for sentence in _SENTENCE_END.split(paragraph):
            for start in range(0, len(sentence), max_chars):
                window = sentence[start : start + max_chars].strip()
                if current and len(current) + 1 + len(window) > max_chars:
                    pieces.append(current)
                    current = ""
                current = f"{current} {window}".strip()
        if current:
            pieces.append(current)
    return pieces

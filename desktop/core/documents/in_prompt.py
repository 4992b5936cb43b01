"""Where attached documents go in the prompt: before the person's latest message, inside
that message, so the question is read right after the text it is about (and earlier
turns do not carry the documents again).

    Documents for this question:

    <document name="velmora.md">
    …the whole text…
    </document>

    Question: How many people live on Velmora?

When they do not fit, the passages most relevant to the question (BM25) are put there
instead, each with its id, in document order, and the note says how many were chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from desktop.core.chat.generation import ChatMessage
from desktop.core.documents.bm25 import PassageIndex
from desktop.core.documents.document import Document
from desktop.core.documents.passages import Passage, passages_of

HEADER = "Documents for this question:"
CITE = "When you use a passage, cite its id in square brackets, like [{example}]."


@dataclass(frozen=True)
class DocumentsInPrompt:
    block: str  # the text put before the question ("" when nothing fitted)
    note: str  # what was put there, in words
    chosen: tuple[Passage, ...] = ()  # the passages, when not the whole documents
    total: int = 0  # passages in the documents
    whole: bool = True


def _short(question: str, limit: int = 60) -> str:
    line = " ".join(question.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _names(documents: Sequence[Document]) -> str:
    if len(documents) == 1:
        return documents[0].name
    return f"{len(documents)} documents"


def whole_documents(documents: Sequence[Document]) -> DocumentsInPrompt:
    parts = [HEADER]
    for document in documents:
        parts.append(f'<document name="{document.name}">\n{document.text.strip()}\n</document>')
    return DocumentsInPrompt("\n\n".join(parts), f"{_names(documents)} in the prompt, whole")


def all_passages(documents: Sequence[Document]) -> list[Passage]:
    return passages_of([(d.name, d.title, d.text) for d in documents])


def chosen_passages(
    documents: Sequence[Document],
    question: str,
    budget_chars: int,
    index: PassageIndex | None = None,
) -> DocumentsInPrompt:
    """The passages most relevant to `question` that fit in `budget_chars`, in document
    order. With no word in common, the first passages (a document's opening usually says
    what it is about)."""
    index = index or PassageIndex(all_passages(documents))
    passages = index.passages
    ranked = [r.passage for r in index.rank(question)]
    by_relevance = bool(ranked)
    order = ranked or passages
    chosen: list[Passage] = []
    used = len(HEADER) + 2 * len(documents) * 40
    for passage in order:
        cost = len(passage.text) + len(passage.id) + 8
        if used + cost > budget_chars:
            if chosen or not by_relevance:
                break
            continue  # the best one is too long for the room: try the next
        chosen.append(passage)
        used += cost
    position = {p.id: i for i, p in enumerate(passages)}
    chosen.sort(key=lambda p: position[p.id])
    why = (f"chosen for “{_short(question)}” (BM25)" if by_relevance
           else "the first ones: none shares a word with the question")  # fmt: skip
    note = (f"{len(chosen)} of {len(passages)} passages of {_names(documents)}, {why}; the "
            "whole text does not fit the context")  # fmt: skip
    if not chosen:
        return DocumentsInPrompt("", f"{_names(documents)} left out: no room in the context",
                                 (), len(passages), False)  # fmt: skip
    lines = [HEADER]
    source = ""
    for passage in chosen:
        if passage.source != source:
            source = passage.source
            lines.append(f"From {source}:")
        lines.append(f"[{passage.id}] {passage.text}")
    lines.append(CITE.format(example=chosen[0].id))
    return DocumentsInPrompt("\n\n".join(lines), note, tuple(chosen), len(passages), False)


def with_documents(
    messages: Sequence[ChatMessage], documents: DocumentsInPrompt
) -> list[ChatMessage]:
    """The latest user message with the documents before it."""
    messages = list(messages)
    if not documents.block:
        return messages
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            question = messages[i].content
            messages[i] = replace(messages[i],
                                  content=f"{documents.block}\n\nQuestion: {question}")  # fmt: skip
            break
    return messages


def latest_question(messages: Sequence[ChatMessage]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user"), "")

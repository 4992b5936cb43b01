"""Documents fitted to the model's context: whole when they fit beside the conversation
and a reply, else the passages that BM25 ranks highest for the question, as many as fit.

Counting is the caller's (the model's own tokenizer, through the engine); token costs of
passages are estimated from the characters per token measured on this very prompt, then
checked by counting the result and shrunk if it was too hopeful.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from desktop.core.chat.generation import ChatMessage
from desktop.core.documents.bm25 import PassageIndex
from desktop.core.documents.document import Document
from desktop.core.documents.in_prompt import (
    DocumentsInPrompt,
    all_passages,
    chosen_passages,
    latest_question,
    whole_documents,
    with_documents,
)

CountMessages = Callable[[Sequence[ChatMessage]], int]
CHARS_PER_TOKEN_GUESS = 4.0  # English in a BPE vocabulary; corrected by measuring
MAX_WHOLE_CHARS_PER_TOKEN = 6  # beyond context × this, the whole text is not even tried
TRIES = 4


def reply_reserve(context_size: int, max_tokens: int) -> int:
    """Room kept for the reply when documents are placed: the reply's length, at most a
    quarter of the context."""
    return max(1, min(max_tokens, max(64, context_size // 4)))


def fit_documents(
    messages: Sequence[ChatMessage],
    documents: Sequence[Document],
    count: CountMessages,
    context_size: int,
    max_tokens: int,
) -> tuple[list[ChatMessage], DocumentsInPrompt | None]:
    """The messages with the documents placed, and what was placed."""
    if not documents:
        return list(messages), None
    reserve = reply_reserve(context_size, max_tokens)
    bare = count(messages)
    room = context_size - reserve - bare
    if room < context_size // 4:  # a long conversation: the documents still get half;
        room = (context_size - reserve) // 2  # older turns are dropped to make the room
    whole = whole_documents(documents)
    chars_per_token = CHARS_PER_TOKEN_GUESS
    if len(whole.block) <= context_size * MAX_WHOLE_CHARS_PER_TOKEN:
        placed = with_documents(messages, whole)
        tokens = count(placed)
        if tokens + reserve <= context_size:
            return placed, whole
        chars_per_token = len(whole.block) / max(1, tokens - bare)
    question = latest_question(messages)
    index = PassageIndex(all_passages(documents))
    budget = room
    chosen = chosen_passages(documents, question, int(budget * chars_per_token), index)
    for _ in range(TRIES):
        placed = with_documents(messages, chosen)
        if not chosen.block:
            return placed, chosen
        used = count(placed) - bare
        if used <= budget:
            return placed, chosen
        budget -= used - budget  # as much smaller as it was too big
        chars_per_token = len(chosen.block) / max(1, used)
        chosen = chosen_passages(documents, question, int(budget * chars_per_token), index)
    return with_documents(messages, chosen), chosen

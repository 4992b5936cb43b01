"""A conversation that outgrows the model's context, and a reply that must fit after it.

The prompt and the reply share the context window. The reply's length is capped to what
is left; when too little is left, an overflow policy decides (as in LM Studio): drop the
oldest turns, drop turns from the middle (keeping the first exchange, which often sets
the scene), or stop and say so. Counting is done by the model's own tokenizer (`count`),
so the figures are exact for that model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from desktop.core.chat.generation import ChatMessage
from desktop.core.chat.prompt_builder import PromptPlan
from desktop.core.documents.in_prompt import DocumentsInPrompt
from desktop.core.tools.tool_format import ToolFormat

OverflowPolicy = Literal["drop oldest", "truncate middle", "stop"]
OVERFLOW_POLICIES: tuple[OverflowPolicy, ...] = ("drop oldest", "truncate middle", "stop")
MIN_REPLY_TOKENS = 64  # the least room a reply keeps before the policy acts

Build = Callable[[Sequence[ChatMessage]], PromptPlan]
Count = Callable[[str], int]


class ContextFull(Exception):
    """The prompt leaves no room for a reply; the message is a sentence with the figures."""

    def __init__(self, tokens: int, limit: int, context: int, message: str) -> None:
        super().__init__(message)
        self.tokens, self.limit, self.context = tokens, limit, context


@dataclass(frozen=True)
class FittedPrompt:
    plan: PromptPlan
    prompt_tokens: int
    max_tokens: int  # what the reply may use: never more than the context has left
    context_size: int
    dropped: int = 0  # messages left out to make room
    note: str = ""  # what was left out, for the transcript
    tools: tuple[str, ...] = ()  # the tools this prompt offers the model
    tool_format: ToolFormat | None = None  # how it was told to call them
    documents: DocumentsInPrompt | None = None  # what of the attached documents it holds


def reply_room(max_tokens: int) -> int:
    return max(1, min(max_tokens, MIN_REPLY_TOKENS))


def fit_to_context(
    messages: Sequence[ChatMessage],
    build: Build,
    count: Count,
    context_size: int,
    max_tokens: int,
    policy: OverflowPolicy = "drop oldest",
) -> FittedPrompt:
    room = reply_room(max_tokens)
    plan = build(messages)
    tokens = count(plan.text)
    if tokens + room <= context_size:
        return FittedPrompt(plan, tokens, min(max_tokens, context_size - tokens), context_size)
    if policy == "stop":
        raise ContextFull(
            tokens, context_size - room, context_size,
            f"The conversation is {tokens:,} tokens; with room for a reply it no longer fits "
            f"the model's context of {context_size:,}. Start a new chat, load the model with "
            "a larger context, or let the oldest turns be dropped (overflow setting).",
        )  # fmt: skip
    if plan.mode == "raw":
        return _fit_document(messages, build, count, context_size, max_tokens)
    return _fit_turns(messages, build, count, context_size, max_tokens, policy)


def turns(messages: Sequence[ChatMessage]) -> tuple[list[ChatMessage], list[list[ChatMessage]]]:
    """System messages, and the rest grouped into turns that each begin with a question."""
    system = [m for m in messages if m.role == "system"]
    groups: list[list[ChatMessage]] = []
    for message in (m for m in messages if m.role != "system"):
        if message.role == "user" or not groups:
            groups.append([message])
        else:
            groups[-1].append(message)
    return system, groups


def _fit_turns(
    messages: Sequence[ChatMessage],
    build: Build,
    count: Count,
    context_size: int,
    max_tokens: int,
    policy: OverflowPolicy,
) -> FittedPrompt:
    system, groups = turns(messages)
    keep_first = 1 if policy == "truncate middle" and len(groups) > 2 else 0
    droppable = len(groups) - 1 - keep_first  # the last turn (the question) always stays
    room = reply_room(max_tokens)

    def attempt(k: int) -> tuple[PromptPlan, int, int]:
        kept = groups[:keep_first] + groups[keep_first + k :]
        chosen = system + [m for g in kept for m in g]
        plan = build(chosen)
        return plan, count(plan.text), len(messages) - len(chosen)

    low, high = 1, droppable
    best: tuple[PromptPlan, int, int] | None = None
    while low <= high:  # the fewest turns dropped that make it fit
        k = (low + high) // 2
        plan, tokens, dropped = attempt(k)
        if tokens + room <= context_size:
            best, high = (plan, tokens, dropped), k - 1
        else:
            low = k + 1
    if best is None:
        plan, tokens, _ = attempt(max(0, droppable))
        raise ContextFull(
            tokens, context_size - room, context_size,
            f"Your message and the instructions alone are {tokens:,} tokens, too many for "
            f"the model's context of {context_size:,} with room for a reply. Shorten the "
            "message or load the model with a larger context.",
        )  # fmt: skip
    plan, tokens, dropped = best
    where = "from the middle of" if keep_first else "from the start of"
    note = (
        f"{dropped} earlier message{'s' if dropped != 1 else ''} left out {where} the "
        f"conversation to fit the model's context of {context_size:,} tokens"
    )
    return FittedPrompt(
        plan, tokens, min(max_tokens, context_size - tokens), context_size, dropped, note
    )


def _fit_document(
    messages: Sequence[ChatMessage],
    build: Build,
    count: Count,
    context_size: int,
    max_tokens: int,
) -> FittedPrompt:
    """Raw text: keep the end of the document (what the model continues from)."""
    room = reply_room(max_tokens)
    text = build(messages).text
    low, high = 0, len(text)  # characters cut from the start
    best: tuple[PromptPlan, int, int] | None = None
    while low <= high:
        cut = (low + high) // 2
        plan = build([ChatMessage("user", text[cut:])])
        tokens = count(plan.text)
        if tokens + room <= context_size:
            best, high = (plan, tokens, cut), cut - 1
        else:
            low = cut + 1
    if best is None or not best[0].text:
        raise ContextFull(
            len(text), context_size - room, context_size,
            f"The model's context of {context_size:,} tokens leaves no room for a reply.",
        )  # fmt: skip
    plan, tokens, cut = best
    note = (
        f"the first {cut:,} characters of the text were left out to fit the model's context "
        f"of {context_size:,} tokens"
    )
    return FittedPrompt(plan, tokens, min(max_tokens, context_size - tokens), context_size, 0, note)

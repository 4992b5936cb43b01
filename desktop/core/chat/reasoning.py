"""Split a reply into reasoning (`<think>…</think>`) and answer.

Reasoning models (Qwen3, DeepSeek-R1 distills) write their chain of thought between think
tags; the UI shows it collapsed and apart from the answer, also while it still streams.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


@dataclass(frozen=True)
class SplitReply:
    reasoning: str
    answer: str
    thinking: bool  # the reasoning is still open (streaming, no closing tag yet)


def split_reasoning(text: str) -> SplitReply:
    stripped = text.lstrip()
    if stripped.startswith(OPEN_TAG):
        body = stripped[len(OPEN_TAG) :]
    elif CLOSE_TAG in text and OPEN_TAG not in text:
        # Some templates put <think> in the prompt, so the reply starts inside it.
        body = text
    else:
        return SplitReply(reasoning="", answer=text, thinking=False)
    reasoning, closed, answer = body.partition(CLOSE_TAG)
    if not closed:
        return SplitReply(reasoning=reasoning.strip(), answer="", thinking=True)
    return SplitReply(reasoning=reasoning.strip(), answer=answer.lstrip(), thinking=False)

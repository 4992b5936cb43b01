"""Conversations as the task models read them: ChatML, the template every model the app
exports carries, so a model trained here answers the same question in the Chat tab.

    <|im_start|>user\\nHow many r's are in strawberry?<|im_end|>\\n<|im_start|>assistant\\n
    s t r1 a w b e r2 r3 y\\nAnswer: 3<|im_end|>

The vocabulary is bytes: every letter is a token of its own, so counting letters is a
question of procedure, not of how words were cut into tokens. (llama.cpp refuses a BPE
vocabulary without merges, so it has one, of two newlines, which the tasks never write.)
"""

from __future__ import annotations

from desktop.core.models.bpe_vocab import DEFAULT_SPECIALS
from desktop.core.train.trained_tokenizer import TrainedTokenizer

NEWLINE = 0x0A
END_OF_TEXT, IM_START, IM_END = DEFAULT_SPECIALS


def task_tokenizer() -> TrainedTokenizer:
    return TrainedTokenizer(merges=((NEWLINE, NEWLINE),), specials=DEFAULT_SPECIALS,
                            name="deepdive-bytes")  # fmt: skip


def prompt_ids(tokenizer: TrainedTokenizer, user: str) -> list[int]:
    """The conversation up to where the assistant starts writing. The user's text is
    ordinary text: "<|im_end|>" typed in it is not the control token."""
    special = tokenizer.special_tokens
    return [
        special[IM_START],
        *tokenizer.encode("user\n"),
        *tokenizer.encode(user),
        special[IM_END],
        *tokenizer.encode("\n"),
        special[IM_START],
        *tokenizer.encode("assistant\n"),
    ]


def answer_ids(tokenizer: TrainedTokenizer, answer: str) -> list[int]:
    """The assistant's turn as it is learned: its text and the end of the turn."""
    return [*tokenizer.encode(answer), end_id(tokenizer)]


def end_id(tokenizer: TrainedTokenizer) -> int:
    return tokenizer.special_tokens[IM_END]


def pad_id(tokenizer: TrainedTokenizer) -> int:
    return tokenizer.special_tokens[END_OF_TEXT]


def answer_text(tokenizer: TrainedTokenizer, ids: list[int]) -> str:
    """A sampled answer as text, without the end-of-turn token."""
    end = end_id(tokenizer)
    return tokenizer.decode_bytes([i for i in ids if i != end]).decode("utf-8", "replace")

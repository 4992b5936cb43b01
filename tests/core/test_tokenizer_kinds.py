"""What the Tokens tab says about a tokenizer: its kind as a reader knows it, and how it
really cut the numbers of the text."""

from __future__ import annotations

import pytest

from desktop.core.tokens.tokenized import Tokenized
from desktop.core.tokens.tokenizer_kinds import describe_vocabulary, number_note, tokenizer_kind


@pytest.mark.parametrize(
    ("ggml", "said"),
    [("llama", "SentencePiece (llama)"), ("gpt2", "byte-level BPE (gpt2)"), (None, "unknown"),
     ("newthing", "newthing")],
)  # fmt: skip
def test_kinds_have_the_names_readers_know(ggml: str | None, said: str) -> None:
    assert tokenizer_kind(ggml) == said
    assert describe_vocabulary(tokenizer_kind("llama"), 262144) == (
        "SentencePiece (llama) · vocabulary 262,144 tokens"
    )


def tokens(*pieces: str) -> Tokenized:
    return Tokenized.from_pieces("".join(pieces), list(range(len(pieces))),
                                 [p.encode() for p in pieces])  # fmt: skip


def test_the_number_note_says_what_the_tokenizer_did() -> None:
    gemma_like = tokens("What", " is", " ", "1", "2", "3", "4", "5", "?")
    assert number_note(gemma_like) == "This tokenizer gives every digit its own token."
    gpt4_like = tokens("What", " is", " ", "123", "45", "?")
    assert number_note(gpt4_like) == "This tokenizer cuts numbers into chunks of up to 3 digits."
    assert number_note(tokens("no", " numbers")) == ""

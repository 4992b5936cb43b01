"""What kind of tokenizer a model has, as a reader knows it, and what a tokenizer does to
numbers - said from what it really did, not assumed.

GGUF files name the tokenizer by llama.cpp's implementation (`tokenizer.ggml.model`):
"llama" is SentencePiece (Llama 1-2, Gemma, Mistral), "gpt2" byte-level BPE (GPT-2,
Llama 3, Qwen, SmolLM), and so on.
"""

from __future__ import annotations

from desktop.core.tokens.tokenized import Tokenized

KINDS = {
    "llama": "SentencePiece",
    "gpt2": "byte-level BPE",
    "bert": "WordPiece",
    "t5": "Unigram (T5)",
    "rwkv": "RWKV",
    "plamo2": "PLaMo-2",
}


def tokenizer_kind(ggml_model: str | None) -> str:
    """ "SentencePiece (llama)" for `llama`: the reader's name, then the file's."""
    if not ggml_model:
        return "unknown"
    known = KINDS.get(ggml_model)
    return f"{known} ({ggml_model})" if known else ggml_model


def describe_vocabulary(kind: str, vocab_size: int) -> str:
    return f"{kind} · vocabulary {vocab_size:,} tokens"


def number_note(tokenized: Tokenized) -> str:
    """How this tokenizer cut the numbers in the text ("" when there are none): every digit
    its own token (Gemma, Llama 1-2) or chunks of up to N digits (GPT-4's cl100k: 3)."""
    pieces = tokenized.pieces()
    digit_runs = [len(p.strip()) for p in pieces if p.strip() and p.strip().isdigit()]
    if not digit_runs:
        return ""
    longest = max(digit_runs)
    if longest == 1:
        return "This tokenizer gives every digit its own token."
    return f"This tokenizer cuts numbers into chunks of up to {longest} digits."

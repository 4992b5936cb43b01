"""Tiny real GGUF models (and broken copies of them) for tests.

The models are written by the app's own writer and really load in llama.cpp, so tests of
the check, the inspect command and the engine run against files llama.cpp accepts, and the
broken variants differ from a good file in exactly one way.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from desktop.core.models.bpe_vocab import byte_level_bpe_vocab
from desktop.core.models.gguf_writer import (
    CHATML_TEMPLATE,
    FileType,
    LlamaShape,
    random_llama_weights,
    write_llama_gguf,
)

TINY_SHAPE = LlamaShape(
    vocab_size=384, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=128, context_length=4096
)
BROKEN_KINDS = (
    "header_10_bytes",
    "mid_metadata",
    "mid_tensor_data",
    "empty",
    "random_bytes",
    "wrong_magic",
)


def tiny_weights(seed: int = 0, shape: LlamaShape = TINY_SHAPE) -> dict[str, np.ndarray]:
    return dict(random_llama_weights(shape, seed))


def make_tiny_gguf(
    path: str | Path,
    *,
    chat_template: bool = True,
    file_type: FileType = "F32",
    seed: int = 0,
    shape: LlamaShape = TINY_SHAPE,
) -> Path:
    path = Path(path)
    write_llama_gguf(
        path,
        shape,
        tiny_weights(seed, shape),
        byte_level_bpe_vocab(shape.vocab_size),
        name="tiny-chat" if chat_template else "tiny-base",
        chat_template=CHATML_TEMPLATE if chat_template else None,
        file_type=file_type,
    )
    return path


def layout(path: Path) -> tuple[int, int]:
    """(start of the tensor list, start of tensor data), read with gguf's own reader."""
    from gguf import GGUFReader

    reader = GGUFReader(path)
    return int(reader.tensors[0].field.offset), int(reader.data_offset)


def write_broken_gguf(source: Path, dest: Path, kind: str) -> Path:
    """A copy of `source` damaged in one way; `kind` is one of BROKEN_KINDS."""
    data = source.read_bytes()
    tensor_list, tensor_data = layout(source)
    damaged = {
        "header_10_bytes": lambda: data[:10],
        "mid_metadata": lambda: data[: tensor_list // 2],
        "mid_tensor_data": lambda: data[: (tensor_data + len(data)) // 2],
        "empty": lambda: b"",
        "random_bytes": lambda: random.Random(1234).randbytes(4096),
        "wrong_magic": lambda: b"GGML" + data[4:],
    }[kind]()
    dest.write_bytes(damaged)
    return dest


# A SentencePiece vocabulary shaped like Gemma's: whitespace runs and newlines are
# user-defined tokens (ordinary text), beside control tokens and a user-defined marker.
SPM_WHITESPACE = ("  ", "    ", "        ", "\n\n", "\t\t")
SPM_WORDS = ("▁the", "▁model", "▁return", "▁def", "▁f", "():", "▁1", "▁hello", "▁world")


def make_spm_vocab_gguf(path: str | Path) -> Path:
    """A vocabulary-only GGUF with `tokenizer.ggml.model = "llama"` (SentencePiece) that
    llama.cpp loads with vocab_only: control <s>/</s>, byte fallback, a few words, and
    Gemma-style user-defined whitespace tokens and a `[marker]`."""
    from gguf import GGUFWriter, TokenType

    path = Path(path)
    tokens: list[str] = ["<unk>", "<s>", "</s>", "<start_of_turn>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    tokens += [*SPM_WHITESPACE, "[marker]"]
    types += [TokenType.USER_DEFINED] * (len(SPM_WHITESPACE) + 1)
    tokens += ["▁", *SPM_WORDS]
    types += [TokenType.NORMAL] * (len(SPM_WORDS) + 1)
    scores = [0.0] * (len(tokens) - len(SPM_WORDS) - 1) + [-1.0] + [-2.0] * len(SPM_WORDS)
    writer = GGUFWriter(path, "llama")
    try:
        writer.add_name("spm-vocab")
        writer.add_context_length(512)
        writer.add_embedding_length(64)
        writer.add_block_count(1)
        writer.add_feed_forward_length(128)
        writer.add_head_count(4)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_tokenizer_model("llama")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types([int(t) for t in types])
        writer.add_bos_token_id(1)
        writer.add_eos_token_id(2)
        writer.add_unk_token_id(0)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
    finally:
        writer.close()
    return path

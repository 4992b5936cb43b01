"""Write llama-architecture GGUF files that llama.cpp loads and runs.

One writer serves the test fixtures (a tiny random model), the benchmarks (a model shaped
like SmolLM2-135M) and the Train tab's export, so all three exercise the same format path.
The tokenizer vocabulary it writes (`BpeVocab`) is built by `desktop.core.models.bpe_vocab`.

Weights are given in llama.cpp's layout, which is also the layout the numpy trainer uses:

* numpy shape `(out_features, in_features)`, applied as `y = x @ W.T` (GGUF stores the
  dimensions reversed, `ne = [in, out]`; the gguf package does that reversal);
* `attn_q`/`attn_k` rows are already in the order llama.cpp's LLAMA rope expects: "normal"
  (non-NeoX) rope rotates *adjacent* pairs `(x[2i], x[2i+1])` of each head by
  `pos * rope_theta ** (-2i / head_dim)`. Hugging Face checkpoints use the NeoX half-split
  pairing, which is why convert_hf_to_gguf permutes those rows; a model trained here with
  adjacent-pair rope needs no permutation. Random weights do not care either way.
* the rest is standard llama: RMSNorm `x / sqrt(mean(x**2) + eps) * w`, SwiGLU FFN
  `ffn_down(silu(ffn_gate(x)) * ffn_up(x))`, grouped-query attention scaled by
  `1/sqrt(head_dim)`. With `tie_embeddings` there is no `output.weight`: llama.cpp then
  reuses `token_embd.weight` for the output projection, as SmolLM2 does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, LlamaFileType
from gguf.quants import quantize

from desktop.core.models.bpe_vocab import BpeVocab
from desktop.core.storage.atomic_files import replacing

FileType = Literal["F32", "F16", "Q8_0"]
FloatArray = np.ndarray[tuple[int, ...], np.dtype[np.float32]]

# Same text as llama-cpp-python's built-in "chatml" format, but spelled differently on
# purpose: llama-cpp-python only renders a model's own Jinja template when it does not match
# a template it knows, and the own-template path is the one real downloaded models take.
CHATML_TEMPLATE = (
    "{%- for message in messages %}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "{{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)

FILE_TYPES: dict[str, tuple[LlamaFileType, GGMLQuantizationType]] = {
    "F32": (LlamaFileType.ALL_F32, GGMLQuantizationType.F32),
    "F16": (LlamaFileType.MOSTLY_F16, GGMLQuantizationType.F16),
    "Q8_0": (LlamaFileType.MOSTLY_Q8_0, GGMLQuantizationType.Q8_0),
}


@dataclass(frozen=True)
class LlamaShape:
    vocab_size: int
    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn_dim: int
    context_length: int
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = False  # no output.weight: llama.cpp reuses token_embd.weight

    def __post_init__(self) -> None:
        if self.dim % self.n_heads or self.n_heads % self.n_kv_heads:
            raise ValueError("dim must divide into n_heads, and n_heads into n_kv_heads")
        if self.head_dim % 2:
            raise ValueError("rope needs an even head dimension")

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads


SMOLLM2_135M_SHAPE = LlamaShape(
    vocab_size=49152, dim=576, n_layers=30, n_heads=9, n_kv_heads=3, ffn_dim=1536,
    context_length=8192, rope_theta=100000.0, tie_embeddings=True,
)  # fmt: skip


def expected_tensor_shapes(shape: LlamaShape) -> dict[str, tuple[int, ...]]:
    """numpy shapes of every tensor llama.cpp's LLAMA architecture loads, in file order."""
    d, kv = shape.dim, shape.n_kv_heads * shape.head_dim
    out: dict[str, tuple[int, ...]] = {"token_embd.weight": (shape.vocab_size, d)}
    for i in range(shape.n_layers):
        out |= {
            f"blk.{i}.attn_norm.weight": (d,),
            f"blk.{i}.attn_q.weight": (d, d),
            f"blk.{i}.attn_k.weight": (kv, d),
            f"blk.{i}.attn_v.weight": (kv, d),
            f"blk.{i}.attn_output.weight": (d, d),
            f"blk.{i}.ffn_norm.weight": (d,),
            f"blk.{i}.ffn_gate.weight": (shape.ffn_dim, d),
            f"blk.{i}.ffn_up.weight": (shape.ffn_dim, d),
            f"blk.{i}.ffn_down.weight": (d, shape.ffn_dim),
        }
    out["output_norm.weight"] = (d,)
    if not shape.tie_embeddings:
        out["output.weight"] = (shape.vocab_size, d)
    return out


def random_llama_weights(shape: LlamaShape, seed: int = 0) -> dict[str, FloatArray]:
    """N(0, 0.02) matrices and all-ones norms: a valid, untrained model."""
    rng = np.random.default_rng(seed)
    weights: dict[str, FloatArray] = {}
    for name, dims in expected_tensor_shapes(shape).items():
        if len(dims) == 1:
            weights[name] = np.ones(dims, dtype=np.float32)
        else:
            weights[name] = rng.standard_normal(dims, dtype=np.float32) * np.float32(0.02)
    return weights


def write_llama_gguf(
    path: str | os.PathLike[str],
    shape: LlamaShape,
    weights: Mapping[str, np.ndarray],
    vocab: BpeVocab,
    *,
    name: str = "tiny",
    chat_template: str | None = CHATML_TEMPLATE,
    file_type: FileType = "F32",
    pre: str = "gpt-2",
) -> None:
    """Write atomically: a crash or error never leaves a half-written model at `path`.
    `pre` names the pre-tokenizer regex llama.cpp must split text with (a trained
    tokenizer says which: `TrainedTokenizer.gguf_pre`)."""
    _validate(shape, weights, vocab)
    ftype, matrix_type = FILE_TYPES[file_type]
    with replacing(path) as temporary:
        writer = GGUFWriter(temporary, "llama")
        try:
            _add_metadata(writer, shape, vocab, name, chat_template, ftype, pre)
            for tensor_name, array in _ordered(shape, weights):
                data, raw_type = encode_weights(np.asarray(array, dtype=np.float32), matrix_type)
                writer.add_tensor(tensor_name, data, raw_dtype=raw_type)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file()
        finally:
            writer.close()  # before the rename: Windows cannot move an open file


def write_vocab_gguf(
    path: str | os.PathLike[str],
    shape: LlamaShape,
    vocab: BpeVocab,
    *,
    name: str = "tokenizer",
    chat_template: str | None = CHATML_TEMPLATE,
    pre: str = "gpt-2",
) -> None:
    """A tokenizer-only GGUF (no tensors), as llama.cpp's `ggml-vocab-*.gguf` files are:
    what llama.cpp loads with `vocab_only` (the Tokens tab; a trained tokenizer)."""
    if len(vocab.tokens) != shape.vocab_size:
        raise ValueError(f"vocab has {len(vocab.tokens)} tokens, shape says {shape.vocab_size}")
    ftype, _ = FILE_TYPES["F32"]
    with replacing(path) as temporary:
        writer = GGUFWriter(temporary, "llama")
        try:
            _add_metadata(writer, shape, vocab, name, chat_template, ftype, pre)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
        finally:
            writer.close()


def _validate(shape: LlamaShape, weights: Mapping[str, np.ndarray], vocab: BpeVocab) -> None:
    if len(vocab.tokens) != shape.vocab_size:
        raise ValueError(f"vocab has {len(vocab.tokens)} tokens, shape says {shape.vocab_size}")
    expected = expected_tensor_shapes(shape)
    unknown = sorted(set(weights) - set(expected))
    missing = sorted(set(expected) - set(weights))
    if unknown or missing:
        raise ValueError(f"weights do not match the shape: unknown {unknown}, missing {missing}")
    for tensor_name, array in weights.items():
        if tuple(array.shape) != expected[tensor_name]:
            raise ValueError(
                f"{tensor_name} has shape {array.shape}, expected {expected[tensor_name]}"
            )


def _ordered(shape: LlamaShape, weights: Mapping[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    return [(n, weights[n]) for n in expected_tensor_shapes(shape)]


def encode_weights(
    array: FloatArray, matrix_type: GGMLQuantizationType
) -> tuple[np.ndarray, GGMLQuantizationType]:
    """Quantize matrices; keep 1-D norms F32, as llama.cpp's own quantizer does."""
    if array.ndim == 1 or matrix_type == GGMLQuantizationType.F32:
        return array, GGMLQuantizationType.F32
    if matrix_type == GGMLQuantizationType.Q8_0 and array.shape[-1] % 32:
        matrix_type = GGMLQuantizationType.F16  # Q8_0 rows come in blocks of 32
    return quantize(array, matrix_type), matrix_type


def _add_metadata(
    writer: GGUFWriter,
    shape: LlamaShape,
    vocab: BpeVocab,
    name: str,
    chat_template: str | None,
    ftype: LlamaFileType,
    pre: str,
) -> None:
    writer.add_name(name)
    writer.add_file_type(int(ftype))
    if ftype != LlamaFileType.ALL_F32:
        writer.add_quantization_version(2)  # GGML_QNT_VERSION
    writer.add_vocab_size(shape.vocab_size)
    writer.add_context_length(shape.context_length)
    writer.add_embedding_length(shape.dim)
    writer.add_block_count(shape.n_layers)
    writer.add_feed_forward_length(shape.ffn_dim)
    writer.add_head_count(shape.n_heads)
    writer.add_head_count_kv(shape.n_kv_heads)
    writer.add_rope_dimension_count(shape.head_dim)
    writer.add_rope_freq_base(shape.rope_theta)
    writer.add_layer_norm_rms_eps(shape.norm_eps)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(list(vocab.tokens))
    writer.add_token_types(list(vocab.token_types))
    writer.add_token_merges(list(vocab.merges))
    writer.add_bos_token_id(vocab.bos_id)  # without these, llama.cpp's "gpt2" default is 11
    writer.add_eos_token_id(vocab.eos_id)
    writer.add_add_bos_token(False)  # byte-level BPE models (GPT-2, SmolLM2) start without BOS
    if chat_template is not None:
        writer.add_chat_template(chat_template)

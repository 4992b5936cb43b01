"""What a GGUF model is, from its header: the ModelInfo value the app shows and keeps.

Reading the header safely is `gguf_header`'s job; this module only interprets the
metadata (architecture-prefixed keys, the quantization label, the KV cache per token).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from desktop.core.models.gguf_header import ArrayValue, GGUFHeader, MetaValue, read_gguf_header


@dataclass(frozen=True)
class ModelInfo:
    path: str
    file_size: int
    name: str
    architecture: str | None
    parameter_count: int
    quantization: str
    context_length: int | None
    chat_template: str | None
    tokenizer_model: str | None
    vocab_size: int | None
    n_layers: int | None
    embedding_length: int | None
    bos_token_id: int | None
    eos_token_id: int | None
    gguf_version: int
    tensor_count: int
    head_count: int | None = None
    head_count_kv: int | None = None

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)

    @property
    def kv_bytes_per_token(self) -> int | None:
        """The f16 KV cache llama.cpp keeps per token of context (K and V, every layer)."""
        heads = self.head_count
        if not (self.n_layers and self.embedding_length and heads):
            return None
        kv_width = (self.head_count_kv or heads) * (self.embedding_length // heads)
        return 2 * self.n_layers * kv_width * 2

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "has_chat_template": self.has_chat_template}


def read_model_info(path: str | Path) -> ModelInfo:
    return model_info_from_header(path, read_gguf_header(path))


def model_info_from_header(path: str | Path, header: GGUFHeader) -> ModelInfo:
    meta = header.metadata
    arch = _str(meta, "general.architecture")
    prefix = f"{arch}." if arch else "\0"  # no architecture: arch-specific keys stay unset
    tokens = meta.get("tokenizer.ggml.tokens")
    vocab = tokens.length if isinstance(tokens, ArrayValue) else _int(meta, prefix + "vocab_size")
    return ModelInfo(
        path=str(path),
        file_size=header.file_size,
        name=_str(meta, "general.name") or Path(path).stem,
        architecture=arch,
        parameter_count=sum(t.n_elements for t in header.tensors),
        quantization=quantization_label(header),
        context_length=_int(meta, prefix + "context_length"),
        chat_template=_str(meta, "tokenizer.chat_template"),
        tokenizer_model=_str(meta, "tokenizer.ggml.model"),
        vocab_size=vocab,
        n_layers=_int(meta, prefix + "block_count"),
        embedding_length=_int(meta, prefix + "embedding_length"),
        bos_token_id=_int(meta, "tokenizer.ggml.bos_token_id"),
        eos_token_id=_int(meta, "tokenizer.ggml.eos_token_id"),
        gguf_version=header.version,
        tensor_count=len(header.tensors),
        head_count=_int(meta, prefix + "attention.head_count"),
        head_count_kv=_int(meta, prefix + "attention.head_count_kv"),
    )


def quantization_label(header: GGUFHeader) -> str:
    """ "Q4_K_M" from general.file_type, else the type holding most weights, else "unknown"."""
    from gguf.constants import GGMLQuantizationType, LlamaFileType

    file_type = _int(header.metadata, "general.file_type")
    if file_type is not None and file_type != LlamaFileType.GUESSED:
        try:
            return LlamaFileType(file_type).name.removeprefix("MOSTLY_").removeprefix("ALL_")
        except ValueError:
            pass
    weight: dict[int, int] = {}
    for t in header.tensors:
        if len(t.dims) >= 2:
            weight[t.ggml_type] = weight.get(t.ggml_type, 0) + t.n_elements
    if not weight:
        return "unknown"
    top = max(weight, key=lambda k: weight[k])
    try:
        return GGMLQuantizationType(top).name
    except ValueError:
        return f"type {top}"


def _str(meta: dict[str, MetaValue], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) else None


def _int(meta: dict[str, MetaValue], key: str) -> int | None:
    value = meta.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None

"""A llama GGUF's weights as the numpy model's parameters, for fine-tuning.

Two steps, so the tab can say what a model is before it reads a gigabyte:

* `read_llama_facts(path)` reads the header only (the app's bounded parser) and says
  whether the trainer can take the model: llama architecture, a shape it implements
  (no rope scaling, no extra tensors), weight types that can be dequantized, a size it
  can train here. Anything else is an `UnsupportedModel` with a sentence naming why.
* `load_llama_weights(facts)` reads every tensor with `gguf.GGUFReader` and dequantizes
  it to float32 with `gguf.quants.dequantize` — llama.cpp's own Python library, which
  knows every block format (F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, …).

Names and numpy shapes are `expected_tensor_shapes`'s, so the same `forward` runs the
model: GGUF files converted from Hugging Face already hold attn_q/attn_k rows in the
order llama.cpp's rope (adjacent pairs) wants, which is the numpy model's rope too.
A model without `output.weight` has its head tied to the embeddings, as SmolLM2 does.

The Reinforce tab loads its policy through the same two calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from desktop.core.models.gguf_header import (
    ArrayValue,
    GGUFError,
    GGUFHeader,
    MetaValue,
    read_gguf_header,
)
from desktop.core.models.gguf_writer import LlamaShape, expected_tensor_shapes
from desktop.core.train.model import Params, parameter_count

MAX_PARAMETERS = 550_000_000  # "about 500M": SmolLM2-360M fits, a 1B model does not
ARCHITECTURE = "llama"


class UnsupportedModel(ValueError):
    """A model the trainer cannot take; the message is a sentence for a person."""


class LoadCancelled(RuntimeError):
    """Reading the weights was stopped."""


@dataclass(frozen=True)
class LlamaFacts:
    """What the header says, once checked: enough to plan a run (memory, tokens)."""

    path: Path
    name: str
    shape: LlamaShape  # context_length: what the model was trained to read
    parameters: int
    weight_types: dict[str, int]  # ggml type name -> parameters stored in it
    chat_template: str | None
    file_size: int

    @property
    def weight_label(self) -> str:
        """ "Q8_0", or "Q4_K + Q6_K" for a mixed file (the types of most weights first)."""
        ranked = sorted(self.weight_types, key=lambda t: -self.weight_types[t])
        return " + ".join(ranked[:3])


def read_llama_facts(path: str | Path, *, max_parameters: int = MAX_PARAMETERS) -> LlamaFacts:
    """The checked facts of a GGUF model; `UnsupportedModel` says why one cannot be
    fine-tuned here (and `gguf_header.GGUFError` why it cannot be read at all)."""
    path = Path(path)
    try:
        header = read_gguf_header(path)
    except GGUFError as exc:
        raise UnsupportedModel(str(exc)) from exc
    meta = header.metadata
    arch = _text(meta, "general.architecture")
    if arch != ARCHITECTURE:
        raise UnsupportedModel(
            f"{path.name} is a {arch or 'model of unknown architecture'}; post-training here "
            "takes llama-architecture models (SmolLM2, TinyLlama, the Train tab's own)."
        )
    shape = _shape(path.name, meta, header)
    _check_tensors(path.name, header, shape)
    parameters = parameter_count(shape)
    if parameters > max_parameters:
        raise UnsupportedModel(
            f"{path.name} has {parameters / 1e6:,.0f}M parameters; post-training on this "
            f"CPU takes models up to about {max_parameters / 1e6:,.0f}M."
        )
    return LlamaFacts(
        path=path,
        name=_text(meta, "general.name") or path.stem,
        shape=shape,
        parameters=parameters,
        weight_types=_weight_types(header),
        chat_template=_text(meta, "tokenizer.chat_template") or None,
        file_size=header.file_size,
    )


def load_llama_weights(
    facts: LlamaFacts,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Params:
    """Every tensor, dequantized to float32, by name (`expected_tensor_shapes`' order).

    The tensors' places come from the header the facts were read from (the bounded
    parser), and their bytes straight from a memory map of the file: `GGUFReader` would
    first turn every vocabulary string into a numpy view, seconds for a 49152-token one."""
    from gguf import GGMLQuantizationType
    from gguf.constants import GGML_QUANT_SIZES
    from gguf.quants import dequantize

    wanted = expected_tensor_shapes(facts.shape)
    try:
        header = read_gguf_header(facts.path)
        mapped = np.memmap(facts.path, dtype=np.uint8, mode="r")
    except (OSError, GGUFError) as exc:
        raise UnsupportedModel(f"{facts.path.name} could not be read: {exc}") from exc
    tensors = {t.name: t for t in header.tensors}
    params: Params = {}
    for n, (name, dims) in enumerate(wanted.items()):
        if cancelled is not None and cancelled():
            raise LoadCancelled("stopped while reading the weights")
        tensor = tensors[name]  # read_llama_facts checked that every one is there
        kind = GGMLQuantizationType(tensor.ggml_type)
        block, size = GGML_QUANT_SIZES[kind]
        row_bytes = tensor.dims[0] // block * size
        start = header.data_offset + tensor.offset
        rows = tensor.n_elements // tensor.dims[0]
        if start + rows * row_bytes > len(mapped):
            raise UnsupportedModel(f"{facts.path.name} is truncated: {name} ends past the end")
        raw = mapped[start : start + rows * row_bytes].reshape(rows, row_bytes)
        values = dequantize(raw, kind)  # F32: a view of the read-only mapping
        params[name] = np.array(values, dtype=np.float32, order="C").reshape(dims)  # owned
        if progress is not None:
            progress(n + 1, len(wanted))
    del mapped
    return params


def _shape(name: str, meta: dict[str, MetaValue], header: GGUFHeader) -> LlamaShape:
    prefix = f"{ARCHITECTURE}."
    if (scaling := _text(meta, prefix + "rope.scaling.type")) not in (None, "none"):
        raise UnsupportedModel(
            f"{name} stretches its rotary positions ({scaling} rope scaling), which the "
            "numpy trainer does not implement."
        )
    names = {t.name for t in header.tensors}
    tokens = meta.get("tokenizer.ggml.tokens")
    vocab = tokens.length if isinstance(tokens, ArrayValue) else _int(meta, prefix + "vocab_size")
    dim = _int(meta, prefix + "embedding_length")
    heads = _int(meta, prefix + "attention.head_count")
    values = {
        "vocabulary size": vocab,
        "width": dim,
        "layers": _int(meta, prefix + "block_count"),
        "heads": heads,
        "feed-forward width": _int(meta, prefix + "feed_forward_length"),
    }
    if missing := [k for k, v in values.items() if not isinstance(v, int) or v <= 0]:
        raise UnsupportedModel(f"{name} does not say its {', '.join(missing)}.")
    assert isinstance(vocab, int) and dim is not None and heads is not None
    head_dim = dim // heads
    rope_dims = _int(meta, prefix + "rope.dimension_count")
    key_length = _int(meta, prefix + "attention.key_length")
    if (rope_dims not in (None, head_dim)) or (key_length not in (None, head_dim)):
        raise UnsupportedModel(
            f"{name} rotates or sizes its attention heads differently from the width "
            "divided by the heads, which the numpy trainer does not implement."
        )
    try:
        return LlamaShape(
            vocab_size=vocab,
            dim=dim,
            n_layers=int(values["layers"] or 0),
            n_heads=heads,
            n_kv_heads=_int(meta, prefix + "attention.head_count_kv") or heads,
            ffn_dim=int(values["feed-forward width"] or 0),
            context_length=_int(meta, prefix + "context_length") or 2048,
            rope_theta=_number(meta, prefix + "rope.freq_base") or 10000.0,
            norm_eps=_number(meta, prefix + "attention.layer_norm_rms_epsilon") or 1e-5,
            tie_embeddings="output.weight" not in names,
        )
    except ValueError as exc:  # heads that do not divide the width, an odd head width
        raise UnsupportedModel(f"{name} has a shape the trainer cannot run: {exc}.") from exc


def _check_tensors(name: str, header: GGUFHeader, shape: LlamaShape) -> None:
    from gguf import GGMLQuantizationType

    expected = expected_tensor_shapes(shape)
    found = {t.name: t for t in header.tensors}
    if extra := sorted(set(found) - set(expected)):
        shown = ", ".join(extra[:3]) + (" …" if len(extra) > 3 else "")
        raise UnsupportedModel(
            f"{name} has tensors the llama trainer does not implement ({shown}): biases, "
            "rope frequency factors or another architecture's parts."
        )
    if missing := [n for n in expected if n not in found]:
        raise UnsupportedModel(f"{name} lacks {missing[0]}: it is not a whole llama model.")
    unsupported: set[str] = set()
    for tensor_name, dims in expected.items():
        tensor = found[tensor_name]
        if tuple(reversed(tensor.dims)) != dims:
            raise UnsupportedModel(
                f"{name}: {tensor_name} is {tuple(reversed(tensor.dims))}, not the {dims} "
                "its header's shape implies."
            )
        try:
            kind = GGMLQuantizationType(tensor.ggml_type)
        except ValueError:
            unsupported.add(f"type {tensor.ggml_type}")
            continue
        if not can_dequantize(kind):
            unsupported.add(kind.name)
    if unsupported:
        raise UnsupportedModel(
            f"{name} stores weights as {', '.join(sorted(unsupported))}, which the gguf "
            "package cannot turn back into numbers; use an F16, Q8_0, Q4_K or Q6_K file."
        )


@lru_cache(maxsize=64)
def can_dequantize(kind: Any) -> bool:
    """Whether `gguf` can turn this block format back into floats: tried on one block of
    zeros (its public call; the list of formats it knows is private)."""
    from gguf.constants import GGML_QUANT_SIZES
    from gguf.quants import dequantize

    try:
        _block, size = GGML_QUANT_SIZES[kind]
        dequantize(np.zeros((1, size), dtype=np.uint8), kind)
    except (NotImplementedError, KeyError, ValueError):
        return False
    return True


def _weight_types(header: GGUFHeader) -> dict[str, int]:
    from gguf import GGMLQuantizationType

    counts: dict[str, int] = {}
    for t in header.tensors:
        if len(t.dims) >= 2:
            label = GGMLQuantizationType(t.ggml_type).name
            counts[label] = counts.get(label, 0) + t.n_elements
    return counts


def _text(meta: dict[str, MetaValue], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) else None


def _int(meta: dict[str, MetaValue], key: str) -> int | None:
    value = meta.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(meta: dict[str, MetaValue], key: str) -> Any:
    value = meta.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

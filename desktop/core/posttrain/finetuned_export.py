"""A fine-tuned model as a GGUF llama.cpp runs: the source file's own metadata — its
tokenizer, special tokens, context length, rope settings, everything — with the new
weights (LoRA already merged into them) as F32, F16 or Q8_0.

Copying the metadata rather than rebuilding it is what keeps the tokenizer exact: a
downloaded model's vocabulary, merges, token types, pre-tokenizer and BOS/EOS settings go
across byte for byte. The chat template the run trained with goes in too: the model's own,
or ChatML for a model that had none (so the Chat tab talks to it the way it was taught).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from desktop.core.models.gguf_writer import (
    FILE_TYPES,
    FileType,
    LlamaShape,
    encode_weights,
    expected_tensor_shapes,
)
from desktop.core.storage.atomic_files import replacing

# Keys the writer sets itself, or that describe the old weights rather than the model.
_NOT_COPIED = {"general.architecture", "general.file_type", "general.quantization_version",
               "general.name", "tokenizer.chat_template"}  # fmt: skip


def write_finetuned_gguf(
    source: str | Path,
    target: str | Path,
    shape: LlamaShape,
    params: Mapping[str, np.ndarray],
    *,
    file_type: FileType = "F16",
    name: str,
    chat_template: str | None,
) -> Path:
    """Write atomically (a failed export never leaves half a model at `target`)."""
    from gguf import GGUFReader, GGUFValueType, GGUFWriter

    expected = expected_tensor_shapes(shape)
    if missing := sorted(set(expected) - set(params)):
        raise ValueError(f"the fine-tuned weights lack {missing[0]}")
    reader = GGUFReader(source)
    ftype, matrix_type = FILE_TYPES[file_type]
    target = Path(target)
    with replacing(target) as temporary:
        writer = GGUFWriter(temporary, "llama")
        try:
            writer.add_name(name)
            writer.add_file_type(int(ftype))
            if file_type != "F32":
                writer.add_quantization_version(2)  # GGML_QNT_VERSION
            for field in reader.fields.values():
                if field.name.startswith("GGUF.") or field.name in _NOT_COPIED or not field.types:
                    continue
                value = field.contents()
                kind = field.types[0]
                if kind == GGUFValueType.ARRAY and not value:
                    continue  # the writer refuses empty arrays (and they say nothing)
                sub = field.types[-1] if kind == GGUFValueType.ARRAY else None
                writer.add_key_value(field.name, value, kind, sub_type=sub)
            if chat_template:
                writer.add_chat_template(chat_template)
            for tensor_name, dims in expected.items():
                array = np.asarray(params[tensor_name], dtype=np.float32)
                if array.shape != dims:
                    raise ValueError(f"{tensor_name} is {array.shape}, not {dims}")
                data, raw_type = encode_weights(array, matrix_type)
                writer.add_tensor(tensor_name, data, raw_dtype=raw_type)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file()
        finally:
            writer.close()
    return target

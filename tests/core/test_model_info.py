"""read_model_info and the bounded header parser, on real and hand-built GGUF bytes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from gguf import GGUFReader

from desktop.core.models.gguf_header import GGUFError, GGUFHeader, TensorInfo, read_gguf_header
from desktop.core.models.gguf_writer import CHATML_TEMPLATE, FileType
from desktop.core.models.model_info import quantization_label, read_model_info
from tests.gguf_fixtures import TINY_SHAPE, make_tiny_gguf, tiny_weights


def gguf_bytes(
    kvs: list[bytes] | None = None,
    *,
    version: int = 3,
    n_tensors: int = 0,
    n_kv: int | None = None,
    tail: bytes = b"",
) -> bytes:
    kvs = kvs or []
    count = len(kvs) if n_kv is None else n_kv
    head = b"GGUF" + struct.pack("<IQQ", version, n_tensors, count)
    return head + b"".join(kvs) + tail


def s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def kv_str(key: str, value: str) -> bytes:
    return s(key) + struct.pack("<I", 8) + s(value)


def kv_u32(key: str, value: int) -> bytes:
    return s(key) + struct.pack("<II", 4, value)


def write(tmp_path: Path, data: bytes, name: str = "model.gguf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- real files ---


def test_tiny_model_info(tiny_gguf: Path) -> None:
    info = read_model_info(tiny_gguf)
    assert info.parameter_count == sum(w.size for w in tiny_weights().values()) == 123_200
    assert info.architecture == "llama"
    assert info.quantization == "F32"
    assert info.context_length == TINY_SHAPE.context_length
    assert info.has_chat_template and info.chat_template == CHATML_TEMPLATE
    assert info.tokenizer_model == "gpt2"
    assert (info.vocab_size, info.n_layers, info.embedding_length) == (384, 2, 64)
    assert (info.bos_token_id, info.eos_token_id) == (381, 383)
    assert info.name == "tiny-chat"
    assert info.file_size == tiny_gguf.stat().st_size
    assert (info.gguf_version, info.tensor_count) == (3, 21)


def test_base_model_has_no_template(tiny_base_gguf: Path) -> None:
    info = read_model_info(tiny_base_gguf)
    assert info.chat_template is None and not info.has_chat_template


@pytest.mark.parametrize("file_type", ["F16", "Q8_0"])
def test_quantization_label_from_file_type(tmp_path: Path, file_type: FileType) -> None:
    info = read_model_info(make_tiny_gguf(tmp_path / "m.gguf", file_type=file_type))
    assert info.quantization == file_type
    assert info.parameter_count == 123_200  # elements, not bytes


def test_to_dict_is_json(tiny_gguf: Path) -> None:
    data = json.loads(json.dumps(read_model_info(tiny_gguf).to_dict()))
    assert data["has_chat_template"] is True
    assert data["parameter_count"] == 123_200
    assert data["path"] == str(tiny_gguf)


def test_header_agrees_with_gguf_reader(tiny_gguf: Path) -> None:
    header = read_gguf_header(tiny_gguf)
    reader = GGUFReader(tiny_gguf)
    assert header.data_offset == reader.data_offset
    for mine, theirs in zip(header.tensors, reader.tensors, strict=True):
        assert mine.name == theirs.name
        assert header.data_offset + mine.offset == theirs.data_offset
        assert mine.nbytes == theirs.n_bytes
        assert mine.dims == tuple(int(d) for d in theirs.shape)


def test_quantization_label_fallbacks() -> None:
    def header(meta: dict[str, int], *types: int) -> GGUFHeader:
        tensors = tuple(TensorInfo(f"t{i}", (64, 64), t, 0) for i, t in enumerate(types))
        norm = TensorInfo("norm", (64,), 0, 0)  # 1-D tensors do not vote
        return GGUFHeader(3, dict(meta), (*tensors, norm), 32, 0, 0)

    assert quantization_label(header({"general.file_type": 15})) == "Q4_K_M"
    assert quantization_label(header({}, 8, 8, 1)) == "Q8_0"
    assert quantization_label(header({"general.file_type": 1024}, 12)) == "Q4_K"  # GUESSED
    assert quantization_label(header({"general.file_type": 999}, 1)) == "F16"
    assert quantization_label(header({})) == "unknown"


def test_name_falls_back_to_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, gguf_bytes([kv_str("general.architecture", "llama")]), "my-model.gguf")
    info = read_model_info(path)
    assert (info.name, info.parameter_count, info.quantization) == ("my-model", 0, "unknown")


# --- broken files: one clear sentence each ---


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "model.gguf is empty (0 bytes)"),
        (b"PK\x03\x04" + bytes(100), "model.gguf is not a GGUF file (starts with b'PK\\x03\\x04')"),
        (b"GGU", "model.gguf is truncated: only 3 bytes"),
        (b"GGUF\x03\x00\x00\x00", "model.gguf is truncated: only 8 bytes"),
        (gguf_bytes(version=1), "GGUF version 1, which llama.cpp no longer reads"),
        (gguf_bytes(version=3 << 24), "big-endian"),
        (gguf_bytes(version=7), "unsupported GGUF version (7)"),
        (gguf_bytes(n_kv=1), "model.gguf is truncated: metadata ends past the end of the file"),
        (gguf_bytes(n_tensors=1), "truncated: tensor list ends past the end of the file"),
        (gguf_bytes(n_kv=10**9), "claims 1,000,000,000 metadata entries"),
        (gguf_bytes(n_tensors=10**6), "claims 1,000,000 tensors"),
        (gguf_bytes(n_kv=1, tail=struct.pack("<Q", 2**60)), "bytes in one string"),
        (
            gguf_bytes([s("k") + struct.pack("<IIQ", 9, 4, 10**12)]),
            "claims 1,000,000,000,000 items in 'k'",
        ),
        (gguf_bytes([s("k") + struct.pack("<IIQ", 9, 9, 1)]), "unsupported array type for 'k'"),
        (gguf_bytes([s("k") + struct.pack("<I", 42)]), "unknown value type 42 for 'k'"),
        (gguf_bytes([kv_u32("a", 1), kv_u32("a", 2)]), "has the metadata key 'a' twice"),
        (gguf_bytes([kv_u32("general.alignment", 3)]), "invalid general.alignment (3)"),
    ],
)
def test_broken_headers(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(GGUFError) as caught:
        read_model_info(write(tmp_path, data))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_claimed_string_longer_than_file_is_truncation_not_allocation(tmp_path: Path) -> None:
    data = gguf_bytes(n_kv=1, tail=struct.pack("<Q", 10_000_000) + b"abc")
    with pytest.raises(GGUFError, match="truncated: metadata ends past the end"):
        read_model_info(write(tmp_path, data))


def test_tensor_with_too_many_dimensions(tmp_path: Path) -> None:
    info = s("t") + struct.pack("<I", 5) + struct.pack("<5Q", 1, 1, 1, 1, 1)
    with pytest.raises(GGUFError, match="tensor 't' has 5 dimensions"):
        read_model_info(write(tmp_path, gguf_bytes(n_tensors=1, tail=info)))


def test_duplicate_tensor_names(tmp_path: Path) -> None:
    one = s("t") + struct.pack("<IQIQ", 1, 32, 0, 0)
    with pytest.raises(GGUFError, match="two tensors with the same name"):
        read_model_info(write(tmp_path, gguf_bytes(n_tensors=2, tail=one + one)))


def test_missing_folder_and_directory(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="does not exist"):
        read_model_info(tmp_path / "nope.gguf")
    with pytest.raises(GGUFError, match="is a folder"):
        read_model_info(tmp_path)


def test_time_limit(tiny_gguf: Path) -> None:
    with pytest.raises(GGUFError, match="too large to read in time"):
        read_gguf_header(tiny_gguf, time_limit=-1.0)

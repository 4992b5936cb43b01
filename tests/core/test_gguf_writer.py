"""The GGUF writer: vocabulary, file contents (read back with gguf's own reader) and llama.cpp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize

from desktop.core.models import gguf_writer
from desktop.core.models.bpe_vocab import (
    byte_level_bpe_vocab,
    bytes_to_unicode,
    token_text,
    vocab_from_byte_merges,
)
from desktop.core.models.gguf_writer import (
    CHATML_TEMPLATE,
    LlamaShape,
    expected_tensor_shapes,
    random_llama_weights,
    write_llama_gguf,
)
from tests.gguf_fixtures import TINY_SHAPE, make_tiny_gguf, tiny_weights
from tests.llama_child import in_child


def _field(reader: GGUFReader, key: str) -> Any:
    return reader.fields[key].contents()


# --- vocabulary ---


def test_bytes_to_unicode_is_a_printable_bijection() -> None:
    table = bytes_to_unicode()
    assert len(set(table.values())) == 256
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("a")] == "a"
    assert all(c.isprintable() and not c.isspace() for c in table.values())


def test_vocab_layout_bytes_then_merges_then_specials() -> None:
    vocab = byte_level_bpe_vocab(384)
    assert len(vocab.tokens) == 384
    assert [vocab.tokens[b] for b in (72, 32)] == ["H", "Ġ"]  # id == byte value
    assert vocab.tokens[-3:] == ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
    assert vocab.token_types[-3:] == (3, 3, 3)  # CONTROL
    assert set(vocab.token_types[:-3]) == {1}  # NORMAL
    assert (vocab.bos_id, vocab.eos_id) == (381, 383)
    assert len(vocab.merges) == 384 - 256 - 3
    assert "Ġ t" in vocab.merges and "Ġthe" in vocab.tokens  # learned from the built-in text


def test_every_merge_builds_on_earlier_tokens() -> None:
    vocab = byte_level_bpe_vocab(49152)
    ids = {t: i for i, t in enumerate(vocab.tokens)}
    assert len(ids) == 49152
    for rank, merge in enumerate(vocab.merges):
        left, right = merge.split(" ")
        new_id = 256 + rank
        assert vocab.tokens[new_id] == left + right
        assert ids[left] < new_id and ids[right] < new_id


def test_vocab_is_deterministic_and_prefix_stable() -> None:
    assert byte_level_bpe_vocab(512) == byte_level_bpe_vocab(512)
    small, big = byte_level_bpe_vocab(300), byte_level_bpe_vocab(600)
    assert big.merges[: len(small.merges)] == small.merges


def test_vocab_needs_at_least_one_merge() -> None:
    with pytest.raises(ValueError, match="at least 260"):
        byte_level_bpe_vocab(259)


def test_vocab_from_trainer_merges() -> None:
    vocab = vocab_from_byte_merges([(b"h", b"i"), (b" ", b"hi")], specials=["<|endoftext|>"])
    assert vocab.tokens[256:] == ("hi", "Ġhi", "<|endoftext|>")
    assert vocab.merges == ("h i", "Ġ hi")
    assert vocab.bos_id == vocab.eos_id == 258  # no <|im_end|>: eos falls back to bos
    assert token_text("é".encode()) == "Ã©"


# --- the file ---


def test_f32_file_holds_exact_weights_and_metadata(tiny_gguf: Path) -> None:
    reader = GGUFReader(tiny_gguf)
    weights = tiny_weights()
    assert [t.name for t in reader.tensors] == list(expected_tensor_shapes(TINY_SHAPE))
    for t in reader.tensors:
        assert t.tensor_type == GGMLQuantizationType.F32
        np.testing.assert_array_equal(
            np.asarray(t.data).reshape(weights[t.name].shape), weights[t.name]
        )
    assert _field(reader, "general.architecture") == "llama"
    assert _field(reader, "general.file_type") == 0
    assert _field(reader, "llama.context_length") == TINY_SHAPE.context_length
    assert _field(reader, "llama.attention.head_count_kv") == 2
    assert _field(reader, "llama.rope.dimension_count") == 16
    assert _field(reader, "tokenizer.ggml.model") == "gpt2"
    assert _field(reader, "tokenizer.ggml.pre") == "gpt-2"
    assert _field(reader, "tokenizer.chat_template") == CHATML_TEMPLATE
    assert len(_field(reader, "tokenizer.ggml.tokens")) == 384


def test_base_model_has_no_chat_template(tiny_base_gguf: Path) -> None:
    assert "tokenizer.chat_template" not in GGUFReader(tiny_base_gguf).fields


def test_q8_0_quantizes_matrices_and_keeps_norms_f32(tmp_path: Path) -> None:
    path = make_tiny_gguf(tmp_path / "q8.gguf", file_type="Q8_0")
    reader = GGUFReader(path)
    weights = tiny_weights()
    assert _field(reader, "general.file_type") == 7  # MOSTLY_Q8_0
    for t in reader.tensors:
        expected = weights[t.name]
        if expected.ndim == 1:
            assert t.tensor_type == GGMLQuantizationType.F32
            continue
        assert t.tensor_type == GGMLQuantizationType.Q8_0
        restored = dequantize(np.asarray(t.data), GGMLQuantizationType.Q8_0)
        np.testing.assert_allclose(restored.reshape(expected.shape), expected, atol=5e-4)


def test_tied_embeddings_write_no_output_tensor(tmp_path: Path) -> None:
    shape = LlamaShape(**{**TINY_SHAPE.__dict__, "tie_embeddings": True})
    weights = random_llama_weights(shape)
    assert "output.weight" not in weights
    path = tmp_path / "tied.gguf"
    write_llama_gguf(path, shape, weights, byte_level_bpe_vocab(384))
    assert "output.weight" not in {t.name for t in GGUFReader(path).tensors}


def test_rejects_weights_that_do_not_match_the_shape(tmp_path: Path) -> None:
    vocab = byte_level_bpe_vocab(384)
    weights = tiny_weights()
    weights["blk.0.attn_k.weight"] = np.zeros((64, 64), dtype=np.float32)
    with pytest.raises(ValueError, match="attn_k"):
        write_llama_gguf(tmp_path / "x.gguf", TINY_SHAPE, weights, vocab)
    del weights["blk.0.attn_k.weight"]
    with pytest.raises(ValueError, match="missing"):
        write_llama_gguf(tmp_path / "x.gguf", TINY_SHAPE, weights, vocab)
    with pytest.raises(ValueError, match="vocab has 400 tokens"):
        write_llama_gguf(tmp_path / "x.gguf", TINY_SHAPE, tiny_weights(), byte_level_bpe_vocab(400))
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.gguf"
    target.write_bytes(b"previous model")

    def boom(array: np.ndarray, qtype: GGMLQuantizationType) -> np.ndarray:
        raise RuntimeError("disk full")

    monkeypatch.setattr(gguf_writer, "quantize", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        make_tiny_gguf(target, file_type="Q8_0")
    assert target.read_bytes() == b"previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.gguf"]


# --- llama.cpp really runs it ---


def tiny_model_facts(path: str) -> dict[str, Any]:
    """Run in a child process (llama_child.in_child): what llama.cpp makes of the file."""
    from llama_cpp import Llama

    llm = Llama(model_path=path, n_ctx=256, n_threads=1, verbose=False)
    try:
        texts = (b"Hello world", b"The model is trained.\n  caf\xc3\xa9 42")
        prompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        reply = llm.create_chat_completion(
            messages=[{"role": "user", "content": "Hi"}], max_tokens=2, temperature=0.0
        )
        return {
            "n_vocab": llm.n_vocab(),
            "bos_eos": (llm.token_bos(), llm.token_eos()),
            "round_trips": [
                llm.detokenize(llm.tokenize(t, add_bos=False, special=False)) == t for t in texts
            ],
            "the": llm.tokenize(b" the", add_bos=False),
            "generated": llm("The model", max_tokens=4, temperature=0.0)["usage"][
                "completion_tokens"
            ],
            "template_ids": llm.tokenize(prompt.encode(), add_bos=False, special=True),
            "chat_format": llm.chat_format,
            "chat_prompt_tokens": reply["usage"]["prompt_tokens"],
        }
    finally:
        llm.close()


@pytest.fixture(scope="module")
def facts(tiny_gguf: Path) -> dict[str, Any]:
    return in_child(tiny_model_facts, str(tiny_gguf))


def test_llama_cpp_loads_and_tokenization_round_trips(facts: dict[str, Any]) -> None:
    assert facts["n_vocab"] == 384
    assert facts["bos_eos"] == (381, 383)
    assert all(facts["round_trips"])
    assert facts["the"] == [262]  # one learned token


def test_llama_cpp_generates(facts: dict[str, Any]) -> None:
    assert facts["generated"] >= 1


def test_llama_cpp_applies_the_chat_template(facts: dict[str, Any]) -> None:
    expected = facts["template_ids"]
    assert expected[0] == 382 and 383 in expected  # specials parsed as single tokens
    assert facts["chat_format"] == "chat_template.default"  # the model's own template
    assert facts["chat_prompt_tokens"] == len(expected)


def quantized_model_facts(path: str) -> tuple[bool, int]:
    from llama_cpp import Llama

    llm = Llama(model_path=path, n_ctx=256, n_threads=1, verbose=False)
    try:
        round_trip = llm.detokenize(llm.tokenize(b"Hello world", add_bos=False)) == b"Hello world"
        return round_trip, llm("Hi", max_tokens=2, temperature=0.0)["usage"]["completion_tokens"]
    finally:
        llm.close()


def test_llama_cpp_loads_and_decodes_q8_0(tmp_path: Path) -> None:
    """Q8_0 is one of the types llama.cpp's AMX kernels crash on: run in a child, it
    fails this test alone if the CPU backend ever picks them up again."""
    path = make_tiny_gguf(tmp_path / "q8.gguf", file_type="Q8_0")
    round_trip, generated = in_child(quantized_model_facts, str(path))
    assert round_trip and generated >= 1

"""A llama GGUF's weights in numpy and back: read exactly (F32) or within the format's
rounding (F16, Q8_0, Q4_K), refused with a sentence when the trainer cannot take it,
and exported with the source's tokenizer and metadata unchanged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from desktop.core.models.bpe_vocab import byte_level_bpe_vocab
from desktop.core.models.gguf_writer import LlamaShape, random_llama_weights, write_llama_gguf
from desktop.core.posttrain import gguf_weights
from desktop.core.posttrain.finetuned_export import write_finetuned_gguf
from desktop.core.posttrain.gguf_weights import (
    UnsupportedModel,
    load_llama_weights,
    read_llama_facts,
)

SHAPE = LlamaShape(
    vocab_size=320, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=128, context_length=512,
    rope_theta=100000.0, tie_embeddings=True,
)  # fmt: skip


def write(path: Path, shape: LlamaShape = SHAPE, file_type: str = "F32", **kw: object) -> dict:
    weights = random_llama_weights(shape, seed=3)
    write_llama_gguf(
        path,
        shape,
        weights,
        byte_level_bpe_vocab(shape.vocab_size),
        name="tiny-test",
        file_type=file_type,
        **kw,
    )  # type: ignore[arg-type]
    return weights


@pytest.mark.parametrize(("file_type", "tolerance"), [("F32", 0.0), ("F16", 5e-5), ("Q8_0", 6e-4)])
def test_weights_come_back_as_written(tmp_path: Path, file_type: str, tolerance: float) -> None:
    path = tmp_path / f"m-{file_type}.gguf"
    written = write(path, file_type=file_type)
    facts = read_llama_facts(path)
    # tied head, theta, eps, context: all from the header (eps as the float32 it is there)
    assert facts.shape == replace(SHAPE, norm_eps=float(np.float32(SHAPE.norm_eps)))
    assert facts.parameters == sum(w.size for w in written.values())
    assert facts.weight_label == file_type
    assert facts.chat_template and "im_start" in facts.chat_template
    loaded = load_llama_weights(facts)
    assert list(loaded) == list(written)
    for name, array in loaded.items():
        assert array.dtype == np.float32 and array.flags.writeable and array.flags.c_contiguous
        np.testing.assert_allclose(array, written[name], rtol=0, atol=tolerance)


def test_an_untied_head_is_read_too(tmp_path: Path) -> None:
    shape = replace(SHAPE, tie_embeddings=False)
    write(tmp_path / "untied.gguf", shape)
    facts = read_llama_facts(tmp_path / "untied.gguf")
    assert not facts.shape.tie_embeddings
    assert "output.weight" in load_llama_weights(facts)


def test_k_quants_are_dequantized_by_gguf(tmp_path: Path) -> None:
    """Q4_K_M, the mix most downloaded small models come in (Q4_K and Q6_K), made by
    llama.cpp's own quantizer (in a child process) from a file of known weights."""
    from tests.llama_child import in_child, llama_quantize

    shape = replace(SHAPE, dim=256, ffn_dim=256, n_heads=4, n_kv_heads=4)
    source, target = tmp_path / "f32.gguf", tmp_path / "q4km.gguf"
    written = write(source, shape)
    in_child(llama_quantize, str(source), str(target), "Q4_K_M")
    facts = read_llama_facts(target)
    assert set(facts.weight_types) <= {"Q4_K", "Q6_K", "Q8_0", "F16", "F32"}
    assert "Q4_K" in facts.weight_types
    loaded = load_llama_weights(facts)
    for name in ("blk.0.ffn_up.weight", "blk.1.attn_q.weight", "token_embd.weight"):
        error = np.abs(loaded[name] - written[name])
        assert 0 < error.max() < 0.2 * np.abs(written[name]).max(), name
        assert error.mean() < 0.05 * np.abs(written[name]).mean() * 4, name


def test_what_cannot_be_fine_tuned_is_refused_with_a_reason(tmp_path: Path, monkeypatch) -> None:
    import gguf

    path = tmp_path / "m.gguf"
    write(path)
    with pytest.raises(UnsupportedModel, match="up to about 0M"):
        read_llama_facts(path, max_parameters=1000)

    monkeypatch.setattr(gguf_weights, "can_dequantize", lambda kind: kind.name != "Q8_0")
    write(tmp_path / "q8.gguf", file_type="Q8_0")
    with pytest.raises(UnsupportedModel, match="stores weights as Q8_0"):
        read_llama_facts(tmp_path / "q8.gguf")
    monkeypatch.undo()

    other = tmp_path / "qwen.gguf"
    writer = gguf.GGUFWriter(other, "qwen2")
    writer.add_block_count(1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    with pytest.raises(UnsupportedModel, match="qwen2; post-training here takes llama"):
        read_llama_facts(other)

    with pytest.raises(UnsupportedModel, match=r"could not|truncated|GGUF"):
        (tmp_path / "junk.gguf").write_bytes(b"GGUF" + b"\0" * 10)
        read_llama_facts(tmp_path / "junk.gguf")


def test_biases_or_rope_scaling_are_named(tmp_path: Path) -> None:
    import gguf

    source = tmp_path / "m.gguf"
    write(source)
    reader = gguf.GGUFReader(source)
    for extra, problem in (("tensor", "biases"), ("scaling", "rope scaling")):
        target = tmp_path / f"{extra}.gguf"
        writer = gguf.GGUFWriter(target, "llama")
        for field in reader.fields.values():
            if field.name.startswith("GGUF.") or field.name == "general.architecture":
                continue
            sub = field.types[-1] if len(field.types) > 1 else None
            writer.add_key_value(field.name, field.contents(), field.types[0], sub_type=sub)
        if extra == "scaling":
            writer.add_string("llama.rope.scaling.type", "yarn")
        for tensor in reader.tensors:
            writer.add_tensor(tensor.name, np.array(tensor.data))
        if extra == "tensor":
            writer.add_tensor("blk.0.attn_q.bias", np.zeros(SHAPE.dim, dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        with pytest.raises(UnsupportedModel, match=problem):
            read_llama_facts(target)


def test_the_export_keeps_the_sources_tokenizer_and_metadata(tmp_path: Path) -> None:
    import gguf

    source = tmp_path / "source.gguf"
    write(source, chat_template=None)  # a model without a template: it gets ChatML
    facts = read_llama_facts(source)
    params = load_llama_weights(facts)
    params["blk.1.attn_v.weight"] += 0.5  # "fine-tuned"
    target = tmp_path / "out" / "tuned.gguf"
    target.parent.mkdir()
    write_finetuned_gguf(source, target, facts.shape, params, file_type="F32", name="tuned",
                         chat_template="{{ messages }}")  # fmt: skip
    before, after = gguf.GGUFReader(source), gguf.GGUFReader(target)
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type",
                "tokenizer.ggml.bos_token_id", "tokenizer.ggml.pre", "llama.context_length",
                "llama.rope.freq_base", "llama.attention.head_count_kv"):  # fmt: skip
        assert after.fields[key].contents() == before.fields[key].contents(), key
    assert after.fields["general.name"].contents() == "tuned"
    assert after.fields["tokenizer.chat_template"].contents() == "{{ messages }}"
    again = load_llama_weights(read_llama_facts(target))
    for name in params:
        np.testing.assert_array_equal(again[name], params[name])
    assert not list(tmp_path.joinpath("out").glob("*.tmp*"))  # written atomically

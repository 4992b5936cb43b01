"""A repository's GGUF files as models, and how they fit on this machine."""

from __future__ import annotations

import pytest

from desktop.core.hub.fit import estimate_fit, mark_recommended, rate_models
from desktop.core.hub.gguf_files import HubFile, group_gguf_files, quantization_from_name
from desktop.core.models.model_info import ModelInfo

GB = 1_000_000_000


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("Qwen2.5-0.5B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("qwen2.5-0.5b-instruct-q8_0.gguf", "Q8_0"),
        ("SmolLM2-135M.Q8_0.gguf", "Q8_0"),
        ("Llama-3.2-1B-Instruct-IQ3_XXS.gguf", "IQ3_XXS"),
        ("Meta-Llama-3.1-8B-Instruct-IQ4_NL.gguf", "IQ4_NL"),
        ("model-f16.gguf", "F16"),
        ("Model-BF16-00001-of-00002.gguf", "BF16"),
        ("gemma-2-2b-it-Q5_K_S.gguf", "Q5_K_S"),
        ("subdir/phi-3-mini-4k-instruct-fp16.gguf", "F16"),
        ("Qwen2.5-7B-Instruct-Q3_K_L.gguf", "Q3_K_L"),
        ("ggml-model.gguf", ""),
    ],
)
def test_quantization_from_the_file_name(name: str, quant: str) -> None:
    assert quantization_from_name(name) == quant


def test_split_parts_are_one_model_in_order() -> None:
    files = [
        HubFile("M-Q8_0-00002-of-00003.gguf", 5 * GB, "b"),
        HubFile("M-Q8_0-00001-of-00003.gguf", 5 * GB, "a"),
        HubFile("M-Q8_0-00003-of-00003.gguf", 2 * GB, "c"),
        HubFile("M-Q4_K_M.gguf", 7 * GB, "d"),
        HubFile("README.md", 100),
        HubFile("M-Q2_K-00001-of-00002.gguf", 3 * GB, "e"),  # its second part is missing
    ]
    models = {m.name: m for m in group_gguf_files(files)}
    assert set(models) == {
        "M-Q8_0-00001-of-00003.gguf", "M-Q4_K_M.gguf", "M-Q2_K-00001-of-00002.gguf"
    }  # fmt: skip
    split = models["M-Q8_0-00001-of-00003.gguf"]
    assert [p.sha256 for p in split.parts] == ["a", "b", "c"]
    assert split.size == 12 * GB and split.is_split and split.complete
    assert split.quantization == "Q8_0"
    assert not models["M-Q2_K-00001-of-00002.gguf"].complete
    smallest_first = [m.name for m in group_gguf_files(files)]
    assert smallest_first[0] == "M-Q2_K-00001-of-00002.gguf"


def test_fit_verdicts_follow_memory() -> None:
    per_token = 100_000
    fits = estimate_fit(1 * GB, 4096, 8 * GB, kv_bytes_per_token=per_token)
    assert fits is not None and fits.verdict == "fits" and fits.kv_exact
    assert fits.kv_cache == per_token * 4096
    assert fits.needed > 1 * GB + fits.kv_cache
    tight = estimate_fit(5 * GB, 4096, 7 * GB, kv_bytes_per_token=per_token)
    assert tight is not None and tight.verdict == "tight"
    assert estimate_fit(8 * GB, 4096, 7 * GB).verdict == "won't fit"  # type: ignore[union-attr]
    # a longer context needs more: the same model can stop fitting
    big_context = estimate_fit(1 * GB, 131_072, 8 * GB, kv_bytes_per_token=per_token)
    assert big_context is not None and big_context.verdict == "won't fit"
    assert estimate_fit(1 * GB, 4096, None) is None  # memory unknown: no verdict


def test_recommended_is_the_largest_quantized_model_that_fits() -> None:
    files = [
        HubFile("m-Q4_K_M.gguf", 2 * GB),
        HubFile("m-Q8_0.gguf", 4 * GB),
        HubFile("m-F16.gguf", 5 * GB),
        HubFile("m-Q8_0-big-00001-of-00002.gguf", 9 * GB),
        HubFile("m-Q8_0-big-00002-of-00002.gguf", 9 * GB),
        HubFile("mmproj-m-f16.gguf", 1 * GB),
    ]
    rated = rate_models(group_gguf_files(files), 4096, 10 * GB, kv_bytes_per_token=50_000)
    recommended = [m.name for m, _ in rated if m.recommended]
    assert recommended == ["m-Q8_0.gguf"]  # F16 fits too, but Q8_0 is as good at less memory
    nothing = mark_recommended(group_gguf_files(files), [None] * 5)
    assert not any(m.recommended for m in nothing)


def test_kv_bytes_per_token_from_the_header() -> None:
    info = ModelInfo(
        path="x", file_size=1, name="x", architecture="llama", parameter_count=1,
        quantization="Q8_0", context_length=8192, chat_template=None, tokenizer_model="gpt2",
        vocab_size=49152, n_layers=30, embedding_length=576, bos_token_id=None,
        eos_token_id=None, gguf_version=3, tensor_count=1, head_count=9, head_count_kv=3,
    )  # fmt: skip
    # SmolLM2-135M: 30 layers × 3 KV heads × 64 dims × (K and V) × 2 bytes (f16)
    assert info.kv_bytes_per_token == 30 * 3 * 64 * 2 * 2


def test_a_local_model_fits_for_the_context_it_will_really_load_with() -> None:
    from desktop.core.hub.fit import local_fit

    gib = 1 << 30
    # trained for 2,048: a planned 8,192 loads with 2,048, and the KV cache is for that
    fit, context = local_fit(300 << 20, "Q8_0", 2048, 8192, 8 * gib, kv_bytes_per_token=9216)
    assert context == 2048 and fit is not None
    assert fit.kv_cache == 2048 * 9216 and fit.kv_exact and fit.verdict == "fits"
    # a tiny model trained for 64: llama.cpp's minimum of 256 applies
    assert local_fit(1 << 20, "F32", 64, 4096, 8 * gib, 512)[1] == 256
    # a big model on little memory
    big, _ = local_fit(20 * gib, "F16", 4096, 4096, 8 * gib, 131072)
    assert big is not None and big.verdict == "won't fit"
    assert local_fit(1 << 20, "F32", 64, 4096, None, 512)[0] is None  # memory unknown

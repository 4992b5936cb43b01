"""The llama.cpp the app runs: a portable build whose CPU variant is chosen at run time,
never one with AMX kernels (they segfault on quantized models: llama.cpp #20824)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.chat.generation import GenerationRequest, LoadSettings, SamplingSettings
from desktop.engine.host_session import HostSession
from desktop.engine.llama_runtime import (
    AMX_VARIANTS,
    LlamaRuntime,
    Variant,
    choose_variant,
    variant_name,
)
from tests.gguf_fixtures import make_tiny_gguf
from tests.llama_child import in_child


def v(name: str, score: int) -> Variant:
    return Variant(name, Path(f"libggml-cpu-{name}.so"), score)


def test_an_amx_variant_is_never_chosen_even_when_it_suits_the_cpu_best() -> None:
    best, skipped = choose_variant([v("haswell", 64), v("sapphirerapids", 4000), v("zen4", 1984)])
    assert best is not None and best.name == "zen4"
    assert skipped == ["sapphirerapids (AMX kernels crash on quantized models)"]


def test_variants_the_cpu_cannot_run_are_never_chosen() -> None:
    best, skipped = choose_variant([v("x64", 1), v("skylakex", 0), v("sapphirerapids", 0)])
    assert best is not None and best.name == "x64" and skipped == []
    assert choose_variant([v("skylakex", 0)]) == (None, [])


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("libggml-cpu-zen4.so", "zen4"),
        ("ggml-cpu-haswell.dll", "haswell"),
        ("libggml-cpu-armv8.2_1.dylib", "armv8.2_1"),
        ("libggml-base.so", None),
        ("libggml-cpu.so", None),
    ],
)
def test_variant_names_from_file_names(file: str, name: str | None) -> None:
    assert variant_name(Path(file)) == name


def test_amx_is_read_from_what_the_build_reports() -> None:
    native_on_amx = LlamaRuntime("native", "native", "CPU : AVX512 = 1 | AMX_INT8 = 1 |")
    assert native_on_amx.amx and "AMX off" in native_on_amx.describe()
    assert not LlamaRuntime("portable", "zen4", "CPU : AVX512 = 1 |").amx


def runtime_in_child() -> LlamaRuntime:
    from desktop.engine.llama_runtime import llama_runtime

    return llama_runtime()


def test_the_installed_build_is_portable_and_runs_without_amx() -> None:
    """What the app's model host gets on this machine: a run-time CPU variant (no
    `-march=native` build), and llama.cpp reporting no AMX in use. On an AMX CPU the
    sapphirerapids variant scores highest; it must be the one left out."""
    runtime = in_child(runtime_in_child)
    assert runtime.build == "portable", "make test installs packaging/build_llama.py's build"
    assert runtime.variant not in AMX_VARIANTS
    assert "AMX_INT8 = 1" not in runtime.system_info
    assert "CPU :" in runtime.system_info  # the CPU backend really is registered
    if Path("/proc/cpuinfo").exists() and "amx_int8" in Path("/proc/cpuinfo").read_text():
        assert any("sapphirerapids" in s for s in runtime.skipped)


def quantize(source: str, target: str, kind: str) -> None:
    """llama.cpp's own quantizer: the K-quants the gguf package cannot write."""
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind}")
    params.nthread = 1
    code = llama_cpp.llama_model_quantize(source.encode(), target.encode(), ctypes.byref(params))
    assert code == 0, f"llama_model_quantize returned {code}"


# llama.cpp file types whose tensors llama.cpp's AMX code handles (and crashed on), with
# the tensor type each writes; K-quants need 256-wide rows.
AMX_TYPES = {"Q8_0": "Q8_0", "Q4_0": "Q4_0", "Q4_1": "Q4_1", "Q4_K_M": "Q4_K",
             "Q5_K_M": "Q5_K", "Q6_K": "Q6_K", "IQ4_XS": "IQ4_XS"}  # fmt: skip


@pytest.mark.parametrize("kind", AMX_TYPES)
def test_every_quantization_amx_crashed_on_decodes_in_the_model_host(
    tmp_path: Path, kind: str
) -> None:
    from dataclasses import replace

    from gguf import GGUFReader

    from tests.gguf_fixtures import TINY_SHAPE

    wide = replace(TINY_SHAPE, dim=256, ffn_dim=512, n_heads=4, n_kv_heads=4)
    source = make_tiny_gguf(tmp_path / "f32.gguf", shape=wide)
    target = tmp_path / f"{kind}.gguf"
    in_child(quantize, str(source), str(target), kind)
    types = {t.tensor_type.name for t in GGUFReader(target).tensors}
    assert AMX_TYPES[kind] in types  # really that type, not a fallback
    session = HostSession()
    try:
        model = session.load(str(target), LoadSettings(context_size=256, threads=1))
        assert "CPU variant" in model.runtime
        request = GenerationRequest(
            1, "Hello", SamplingSettings(max_tokens=8, seed=1), ignore_eos=True
        )
        stats = session.generate(request, lambda _batch: None)
    finally:
        session.close()
    assert stats.generated_tokens == 8 and stats.stop_reason == "length"

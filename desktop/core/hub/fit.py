"""Will this model run here? File size plus KV cache, against the memory this machine has.

llama.cpp maps the weights (about the file size) and keeps an f16 KV cache per token of
context; compute buffers add a little. "Fits" leaves a third of available memory for the
rest of the computer; "tight" may swap under load; "won't fit" will not load or crawls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from desktop.core.hub.gguf_files import BITS_PER_WEIGHT, GGUFModelFile, is_projector

Verdict = Literal["fits", "tight", "won't fit"]
COMFORT_SHARE = 0.67
RUNTIME_OVERHEAD = 150 << 20  # compute buffers and the llama.cpp process itself
FULL_PRECISION = frozenset({"F32", "F16", "BF16"})


@dataclass(frozen=True)
class FitEstimate:
    verdict: Verdict
    needed: int  # bytes
    kv_cache: int
    kv_exact: bool  # from the model's own header, not a guess from its size


def guess_kv_bytes_per_token(file_size: int, quantization: str) -> int:
    """Without the header: ~16 KiB per token per billion parameters, at least 12 KiB
    (Llama-3-8B: 128 KiB; Qwen2.5-0.5B: 12 KiB)."""
    bits = BITS_PER_WEIGHT.get(quantization, 5.0)
    billions = file_size * 8 / bits / 1e9
    return max(12 << 10, int(billions * (16 << 10)))


def estimate_fit(
    model_size: int,
    context_length: int,
    available: int | None,
    *,
    kv_bytes_per_token: int | None = None,
    quantization: str = "",
) -> FitEstimate | None:
    """None when this computer's memory cannot be read."""
    if available is None:
        return None
    exact = kv_bytes_per_token is not None
    per_token = kv_bytes_per_token or guess_kv_bytes_per_token(model_size, quantization)
    kv = per_token * context_length
    needed = model_size + kv + RUNTIME_OVERHEAD
    verdict: Verdict = (
        "fits" if needed <= available * COMFORT_SHARE
        else "tight" if needed <= available
        else "won't fit"
    )  # fmt: skip
    return FitEstimate(verdict, needed, kv, exact)


def mark_recommended(
    models: Sequence[GGUFModelFile], fits: Sequence[FitEstimate | None]
) -> list[GGUFModelFile]:
    """The largest model that fits comfortably is the one to pick — projectors aside, and
    quantized before full precision (Q8_0 is within noise of F16 at half the memory)."""

    def rank(model: GGUFModelFile) -> tuple[bool, int]:
        return model.quantization not in FULL_PRECISION, model.size

    candidates = [
        i
        for i, (model, fit) in enumerate(zip(models, fits, strict=True))
        if fit is not None and fit.verdict == "fits" and not is_projector(model) and model.complete
    ]
    best = max(candidates, key=lambda i: rank(models[i]), default=-1)
    return [replace(m, recommended=(i == best)) for i, m in enumerate(models)]


def rate_models(
    models: Sequence[GGUFModelFile],
    context_length: int,
    available: int | None,
    kv_bytes_per_token: int | None = None,
) -> list[tuple[GGUFModelFile, FitEstimate | None]]:
    """Each model with its fit on this machine, the recommended one marked."""
    fits = [
        estimate_fit(
            m.size,
            context_length,
            available,
            kv_bytes_per_token=kv_bytes_per_token,
            quantization=m.quantization,
        )
        for m in models
    ]
    return list(zip(mark_recommended(models, fits), fits, strict=True))


LLAMA_MIN_CONTEXT = 256


def local_fit(
    file_size: int,
    quantization: str,
    trained_context: int | None,
    planned_context: int,
    available: int | None,
    kv_bytes_per_token: int | None,
) -> tuple[FitEstimate | None, int]:
    """A model in the library: the fit for the context it will really load with (the
    planned one, never more than it was trained for, never less than llama.cpp's minimum),
    and that context."""
    context = min(planned_context, trained_context) if trained_context else planned_context
    context = max(LLAMA_MIN_CONTEXT, context)
    fit = estimate_fit(file_size, context, available, kv_bytes_per_token=kv_bytes_per_token,
                       quantization=quantization)  # fmt: skip
    return fit, context

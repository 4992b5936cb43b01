"""How much memory fine-tuning a model takes, full or with LoRA, before it starts — and a
sentence with the figures when that is more than the computer has free.

Full fine-tuning keeps four float32 copies of every weight (the weights, their gradients
and AdamW's two moments): 16 bytes a parameter, 2.2 GB for SmolLM2-135M. LoRA keeps one
frozen copy, and moments only for its adapters, plus the adapted matrices' merged copies
and gradients while a step runs. Both need the activations of the micro-batches in
flight (the layers' caches for the backward pass, and the vocabulary-wide logits).
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.formatting import format_bytes
from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.posttrain.lora import LoraSpec, adapter_count
from desktop.core.posttrain.sft_settings import SftSettings, sft_config
from desktop.core.train.compute import ThreadPolicy, plan_compute
from desktop.core.train.layers import ATTENTION_BLOCK
from desktop.core.train.model import parameter_count

HEADROOM = 0.9  # of the available memory: the window, the OS and llama.cpp need some too


@dataclass(frozen=True)
class MemoryNeed:
    full: int  # bytes to fine-tune every weight
    lora: int  # bytes with LoRA
    activations: int  # of which the step's working arrays (both)


def activation_bytes(shape: LlamaShape, rows: int, time: int) -> int:
    """float32 arrays kept for the backward pass of `rows` rows of `time` tokens: per
    layer the norms, q/k/v, the attention weights over the keys each query block sees,
    the feed-forward's hidden arrays; and the logits over the vocabulary (three arrays of
    them at the peak: logits, softmax, their gradient)."""
    d, kv, ffn = shape.dim, shape.n_kv_heads * shape.head_dim, shape.ffn_dim
    keys = (time + min(time, ATTENTION_BLOCK)) / 2
    tokens = rows * time
    per_layer = (
        tokens * (8 * d + 2 * kv + 5 * ffn) * 4 + int(rows * shape.n_heads * time * keys) * 4
    )
    logits = tokens * shape.vocab_size * 4 * 3
    return shape.n_layers * per_layer + logits


def memory_need(
    shape: LlamaShape, lora: LoraSpec, *, rows: int, time: int, workers: int = 1
) -> MemoryNeed:
    params = parameter_count(shape)
    activations = activation_bytes(shape, rows, time) * max(1, workers)
    full = params * 4 * 4 + activations
    adapted = sum(_matrix_size(shape, t) for t in lora.targets) * shape.n_layers
    lora_bytes = params * 4 + adapted * 4 * 2 + adapter_count(lora, shape) * 4 * 4 + activations
    return MemoryNeed(full, lora_bytes, activations)


def too_big(need: int, available: int | None, what: str) -> str | None:
    """None if `need` fits the free memory (or it cannot be told), else why not."""
    if available is None or need <= available * HEADROOM:
        return None
    return (f"{what} needs about {format_bytes(need)} of memory and this computer has "
            f"{format_bytes(available)} free: use LoRA, a shorter context, a smaller batch, "
            "or a smaller model.")  # fmt: skip


def _matrix_size(shape: LlamaShape, target: str) -> int:
    d, kv, ffn = shape.dim, shape.n_kv_heads * shape.head_dim, shape.ffn_dim
    return {"attn_q": d * d, "attn_k": kv * d, "attn_v": kv * d, "attn_output": d * d,
            "ffn_gate": ffn * d, "ffn_up": ffn * d, "ffn_down": d * ffn}[target]  # fmt: skip


def planned_memory(shape: LlamaShape, settings: SftSettings, policy: ThreadPolicy) -> MemoryNeed:
    """The need of a run as `run_training` will compute it: the micro-batches and the
    threads `plan_compute` picks for this model on this CPU, at the full context."""
    config = sft_config(settings, shape, parameter_count(shape), settings.batch_size, 1)
    compute = plan_compute(config, policy)
    return memory_need(shape, settings.lora, rows=compute.micro_rows, time=config.context,
                       workers=compute.workers)  # fmt: skip


def refusal(shape: LlamaShape, settings: SftSettings, policy: ThreadPolicy) -> str | None:
    """Why this run would not fit in the free memory now (None: it fits, or who knows)."""
    from desktop.core.models.system_memory import available_memory_bytes

    need = planned_memory(shape, settings, policy)
    what = "Full fine-tuning" if settings.method == "full" else "Fine-tuning with LoRA"
    return too_big(need.full if settings.method == "full" else need.lora,
                   available_memory_bytes(), what)  # fmt: skip

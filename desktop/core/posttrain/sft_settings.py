"""What a fine-tuning run is asked to do, and the training schedule that follows from it.

The run itself is the Train tab's `TrainConfig` (so the one loop, its checkpoints and its
curves serve both): the model's shape comes from the GGUF, the steps from the epochs and
the number of conversations, evaluations and samples spread over the run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.posttrain.lora import LoraSpec
from desktop.core.posttrain.sft_data import Truncation
from desktop.core.train.config import TrainConfig

Method = Literal["lora", "full"]
Schedule = Literal["cosine", "constant"]
SMALL_MODEL = 20_000_000  # below this (the Train tab's own models), bolder learning rates


@dataclass(frozen=True)
class SftSettings:
    method: Method = "lora"
    lora: LoraSpec = field(default_factory=LoraSpec)
    epochs: float = 3.0
    learning_rate: float | None = None  # None: `suggested_learning_rate`
    schedule: Schedule = "cosine"  # warmup, then cosine down to a tenth; or constant
    batch_size: int = 8
    context: int = 512  # tokens per conversation at most (cut or dropped beyond)
    validation_share: float = 0.1
    truncation: Truncation = "cut"
    seed: int = 0
    sample_tokens: int = 48  # per sample reply

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SftSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if isinstance(known.get("lora"), dict):
            known["lora"] = LoraSpec.from_dict(known["lora"])
        return cls(**known)


def suggested_learning_rate(method: Method, parameters: int) -> float:
    """A pretrained model needs small steps (a big one erases what it knew); LoRA's few
    fresh numbers take bigger ones; a tiny model of the Train tab's takes bigger still."""
    small = parameters < SMALL_MODEL
    if method == "lora":
        return 3e-3 if small else 5e-4
    return 2e-3 if small else 5e-5


def suggested_plan(parameters: int) -> tuple[Method, float]:
    """The method and epochs a model's size calls for: a model of the Train tab's size gets
    every weight and ten passes (2-3 s; LoRA's few adapters and three passes left the
    built-in model babbling), a pretrained one LoRA and three."""
    return ("full", 10.0) if parameters < SMALL_MODEL else ("lora", 3.0)


def steps_for(settings: SftSettings, n_train: int) -> int:
    """Optimiser steps for the epochs asked: every conversation seen `epochs` times."""
    return max(1, math.ceil(settings.epochs * n_train / settings.batch_size))


def sft_config(
    settings: SftSettings, shape: LlamaShape, parameters: int, n_train: int, n_validation: int
) -> TrainConfig:
    steps = steps_for(settings, n_train)
    lr = settings.learning_rate or suggested_learning_rate(settings.method, parameters)
    context = min(settings.context, shape.context_length)
    return TrainConfig(
        preset=f"sft-{settings.method}", vocab_size=shape.vocab_size, dim=shape.dim,
        n_layers=shape.n_layers, n_heads=shape.n_heads, n_kv_heads=shape.n_kv_heads,
        ffn_dim=shape.ffn_dim, context=context, batch_size=settings.batch_size, steps=steps,
        learning_rate=lr,
        min_learning_rate=lr if settings.schedule == "constant" else lr / 10,
        warmup_steps=max(1, min(20, steps // 20)), weight_decay=0.0, grad_clip=1.0,
        seed=settings.seed, validation_share=settings.validation_share,
        eval_every=max(1, steps // 10), sample_every=max(1, steps // 5),
        eval_batches=max(1, min(4, math.ceil(n_validation / settings.batch_size))),
        sample_tokens=settings.sample_tokens, temperature=0.0,
        rope_theta=shape.rope_theta, norm_eps=shape.norm_eps,
        tie_embeddings=shape.tie_embeddings,
    )  # fmt: skip


def with_steps(config: TrainConfig, steps: int) -> TrainConfig:
    """The same run, longer or shorter (evaluations and samples spread to match)."""
    return replace(config, steps=steps, eval_every=max(1, steps // 10),
                   sample_every=max(1, steps // 5))  # fmt: skip

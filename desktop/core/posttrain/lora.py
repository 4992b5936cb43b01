"""LoRA (Hu et al., 2021): fine-tune a few small matrices instead of the whole model.

Each adapted weight W (out × in) stays frozen; beside it the run learns A (rank × in) and
B (out × rank), and the model computes with

    W' = W + (alpha / rank) · B @ A

B starts at zero, so step 0 is exactly the loaded model. Only A and B are trained, so
AdamW keeps moments for them alone — for SmolLM2-135M at rank 8 on the four attention
matrices that is 1.6M numbers instead of 135M — and a checkpoint is a few megabytes.

The maths here is the merged form: each step builds W' for the adapted matrices (a rank-r
product, cheap next to a batch of tokens), runs the model's own forward and backward with
every other weight frozen (`model.backward(trainable=…)` skips their gradients), and turns
the gradient of W' into A's and B's:

    dA = s · Bᵀ @ dW'        dB = s · dW' @ Aᵀ        (s = alpha / rank)

`merged_params` is also the export: the adapters folded into the weights, so llama.cpp
runs a plain llama model. The tests check dA and dB against finite differences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.train.batches import Batch
from desktop.core.train.model import Params, loss_and_grads, loss_only

# The matrices of a llama block LoRA can adapt, by their GGUF names.
ATTENTION = ("attn_q", "attn_k", "attn_v", "attn_output")
FEED_FORWARD = ("ffn_gate", "ffn_up", "ffn_down")
TARGETS = ATTENTION + FEED_FORWARD
A_SUFFIX, B_SUFFIX = ".lora_a", ".lora_b"


@dataclass(frozen=True)
class LoraSpec:
    rank: int = 8
    alpha: float = 16.0
    targets: tuple[str, ...] = ATTENTION

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError("the LoRA rank must be at least 1")
        if unknown := [t for t in self.targets if t not in TARGETS]:
            raise ValueError(
                f"LoRA cannot adapt {', '.join(unknown)} (known: {', '.join(TARGETS)})"
            )
        if not self.targets:
            raise ValueError("LoRA needs at least one matrix to adapt")

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def adapted(self, shape: LlamaShape) -> list[str]:
        """The weights this spec adapts, by parameter name."""
        return [f"blk.{i}.{t}.weight" for i in range(shape.n_layers) for t in self.targets]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoraSpec:
        return cls(int(data["rank"]), float(data["alpha"]), tuple(data["targets"]))


def init_adapters(spec: LoraSpec, base: Params, shape: LlamaShape, seed: int) -> Params:
    """A ~ uniform(±1/sqrt(in)) (the scale PEFT's Kaiming init gives), B = 0: the adapted
    model starts exactly where the loaded one is, and the first step moves B."""
    rng = np.random.default_rng(seed)
    adapters: Params = {}
    for name in spec.adapted(shape):
        out_features, in_features = base[name].shape
        bound = 1.0 / np.sqrt(in_features)
        a = rng.uniform(-bound, bound, size=(spec.rank, in_features))
        adapters[name + A_SUFFIX] = a.astype(base[name].dtype)
        adapters[name + B_SUFFIX] = np.zeros((out_features, spec.rank), dtype=base[name].dtype)
    return adapters


def adapter_count(spec: LoraSpec, shape: LlamaShape) -> int:
    """How many numbers the adapters hold: rank × (in + out) per adapted matrix."""
    d, kv, ffn = shape.dim, shape.n_kv_heads * shape.head_dim, shape.ffn_dim
    sizes = {"attn_q": (d, d), "attn_k": (kv, d), "attn_v": (kv, d), "attn_output": (d, d),
             "ffn_gate": (ffn, d), "ffn_up": (ffn, d), "ffn_down": (d, ffn)}  # fmt: skip
    return shape.n_layers * sum(spec.rank * sum(sizes[t]) for t in spec.targets)


def merged_params(spec: LoraSpec, base: Params, adapters: Params) -> Params:
    """The base model with W + s·B@A in place of each adapted weight. The other arrays are
    the base's own (not copies): merging costs only the adapted matrices."""
    merged = dict(base)
    for name in _adapted_names(adapters):
        delta = adapters[name + B_SUFFIX] @ adapters[name + A_SUFFIX]
        delta *= spec.scale
        delta += base[name]
        merged[name] = delta
    return merged


def _adapted_names(adapters: Params) -> list[str]:
    return [name.removesuffix(A_SUFFIX) for name in adapters if name.endswith(A_SUFFIX)]


class LoraLoss:
    """The next-token objective on the adapted model, trained through its adapters: the
    run's parameters are the adapters; the frozen base lives here."""

    def __init__(self, spec: LoraSpec, base: Params) -> None:
        self.spec, self.base = spec, base

    def loss_and_grads(
        self, params: Params, shape: LlamaShape, batch: Batch, normaliser: float | None
    ) -> tuple[float, Params]:
        merged = merged_params(self.spec, self.base, params)
        names = _adapted_names(params)
        loss, grads = loss_and_grads(merged, shape, batch.inputs, batch.targets, batch.weights,
                                     normaliser, trainable=frozenset(names))  # fmt: skip
        return loss, adapter_grads(self.spec, params, grads)

    def loss(
        self, params: Params, shape: LlamaShape, batch: Batch, normaliser: float | None
    ) -> float:
        merged = merged_params(self.spec, self.base, params)
        return loss_only(merged, shape, batch.inputs, batch.targets, batch.weights, normaliser)


def adapter_grads(spec: LoraSpec, adapters: Params, weight_grads: Params) -> Params:
    """dA = s·Bᵀ@dW and dB = s·dW@Aᵀ from each adapted weight's gradient dW."""
    grads: Params = {}
    for name in _adapted_names(adapters):
        d_weight = weight_grads[name]
        a, b = adapters[name + A_SUFFIX], adapters[name + B_SUFFIX]
        d_a = b.T @ d_weight
        d_a *= spec.scale
        d_b = d_weight @ a.T
        d_b *= spec.scale
        grads[name + A_SUFFIX], grads[name + B_SUFFIX] = d_a, d_b
    return {name: grads[name] for name in adapters}  # the adapters' order

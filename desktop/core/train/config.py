"""What a training run is: the model's shape, the tokenizer's size, and the schedule.
Presets go from "tiny" (seconds on a laptop) to "small" (~1M parameters).

Both presets read 1024 tokens at a time. What the app does with a model needs that much:
its base-model prompt (an identity line and three example exchanges) alone is ~500 tokens
in a 512-token vocabulary, chat goes on for several turns after it, an open-book quiz
prompt holds an article excerpt, and llama.cpp raises a smaller context to 256 anyway —
positions the model never trained on. The batches hold fewer, longer rows, so a step sees
as many tokens as before (1024 and 2048)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.train.layers import ATTENTION_BLOCK
from desktop.core.train.model import parameter_count


@dataclass(frozen=True)
class TrainConfig:
    preset: str = "tiny"
    vocab_size: int = 512
    dim: int = 64
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 4
    ffn_dim: int = 192  # ~8/3 × dim as in llama, rounded up to 32 (whole Q8_0 blocks)
    context: int = 1024
    batch_size: int = 1
    steps: int = 300
    learning_rate: float = 3e-3
    min_learning_rate: float = 3e-4
    warmup_steps: int = 20
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int = 1337
    validation_share: float = 0.1
    eval_every: int = 25
    eval_batches: int = 4
    sample_every: int = 50
    sample_tokens: int = 48
    temperature: float = 0.8
    # The rest of a model's shape: the Train tab's own models keep llama's defaults; a
    # model loaded for fine-tuning brings its own (SmolLM2: theta 100000, a tied head).
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = False

    def shape(self) -> LlamaShape:
        return LlamaShape(
            vocab_size=self.vocab_size, dim=self.dim, n_layers=self.n_layers,
            n_heads=self.n_heads, n_kv_heads=self.n_kv_heads, ffn_dim=self.ffn_dim,
            context_length=self.context, rope_theta=self.rope_theta, norm_eps=self.norm_eps,
            tie_embeddings=self.tie_embeddings,
        )  # fmt: skip

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.context

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


PRESETS: dict[str, TrainConfig] = {
    "tiny": TrainConfig(),
    "small": TrainConfig(
        preset="small", vocab_size=1024, dim=128, n_layers=4, n_heads=4, n_kv_heads=4,
        ffn_dim=352, context=1024, batch_size=2, steps=2000, learning_rate=2e-3,
        min_learning_rate=2e-4, warmup_steps=100, eval_every=100, sample_every=200,
    ),
}  # fmt: skip


def preset(name: str, **changes: Any) -> TrainConfig:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    return replace(PRESETS[name], **changes)


def training_memory_bytes(config: TrainConfig, rows: int | None = None) -> int:
    """Rough float32 footprint: weights, gradients and AdamW's two moments (4 copies),
    plus the activations kept for the backward pass of `rows` rows at a time (a
    micro-batch; default the whole batch). Attention keeps each query's weights over the
    keys it sees: about half of context² (query blocks, `layers.ATTENTION_BLOCK`)."""
    weights = parameter_count(config.shape()) * 4 * 4
    b, t, d = rows or config.batch_size, config.context, config.dim
    keys = (t + min(t, ATTENTION_BLOCK)) / 2  # a query block sees the keys up to its end
    per_layer = (
        b * t * (10 * d + 3 * config.ffn_dim) * 4 + int(b * config.n_heads * t * keys) * 4 * 2
    )
    logits = b * t * config.vocab_size * 4 * 3
    return weights + config.n_layers * per_layer + logits


def ffn_width(dim: int) -> int:
    """llama's MLP width, ~8/3 of the model width, in whole 32-wide Q8_0 blocks."""
    return -(-8 * dim // 3 // 32) * 32 if dim >= 12 else 32


def problems(config: TrainConfig) -> list[str]:
    """What makes a configuration untrainable, in words (empty when it is fine)."""
    out = []
    if config.dim % config.n_heads:
        out.append(f"the width {config.dim} does not split into {config.n_heads} heads")
    elif (config.dim // config.n_heads) % 2:
        out.append(f"each head would be {config.dim // config.n_heads} wide; rotary "
                   "positions need an even head width")  # fmt: skip
    if config.n_heads % config.n_kv_heads:
        out.append("the key/value heads must divide the heads")
    return out


def fit_schedule(config: TrainConfig) -> TrainConfig:
    """Warmup, evaluations and samples in proportion to a custom number of steps: ten
    steps with the small preset's 100-step warmup would never reach full speed."""
    steps = config.steps
    return replace(
        config,
        warmup_steps=max(1, min(config.warmup_steps, steps // 10)),
        eval_every=max(1, min(config.eval_every, steps // 8)),
        sample_every=max(1, min(config.sample_every, steps // 4)),
    )

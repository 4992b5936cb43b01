"""The numpy training model's twin in PyTorch (eager, CPU), for `bench_train.py`.

The same network as `desktop.core.train.model`, written the usual PyTorch way so its
speed is a fair bar: parameters named and shaped as `expected_tensor_shapes` gives them
(so they load straight from `init_params`), rope turning adjacent pairs (2i, 2i+1) as
llama.cpp does, RMSNorm with eps inside the square root, SwiGLU, no biases, the output
head tied to the embeddings only if the shape says so. Attention is PyTorch's fused
`scaled_dot_product_attention` (causal), the fastest eager kernel it has.

Training uses `torch.optim.AdamW` with the app's betas, eps and weight decay, the 1-D
(norm) weights undecayed, gradients clipped to the same global norm, and the learning
rate the app's schedule gives for each step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from desktop.core.models.gguf_writer import LlamaShape


def to_torch(params: Mapping[str, np.ndarray], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Leaf tensors that require gradients, copied from the numpy parameters."""
    return {
        name: torch.tensor(np.asarray(p), dtype=dtype).requires_grad_(True)
        for name, p in params.items()
    }


def rope_tables(shape: LlamaShape, time: int, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    """cos and sin of every (position, pair) angle, (time, head_dim // 2), computed in
    float64 and rounded once, as the numpy model does."""
    half = torch.arange(0, shape.head_dim, 2, dtype=torch.float64) / shape.head_dim
    inv_freq = shape.rope_theta**-half
    angles = torch.outer(torch.arange(time, dtype=torch.float64), inv_freq)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Turn each adjacent pair (x[2i], x[2i+1]) of the last axis by its position's angle:
    (a, b) -> (a cos - b sin, a sin + b cos). `x` is (batch, heads, time, head_dim)."""
    pairs = x.unflatten(-1, (-1, 2))
    a, b = pairs[..., 0], pairs[..., 1]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


Linear = Callable[[str, torch.Tensor], torch.Tensor]  # (weight's name, x) -> x @ W.T


def forward(
    params: Mapping[str, torch.Tensor],
    shape: LlamaShape,
    tokens: torch.Tensor,
    linear: Linear | None = None,
) -> torch.Tensor:
    """tokens (batch, time) -> logits (batch, time, vocab). `linear` computes each of a
    block's matrix products by the weight's name (LoRA adds its adapters there)."""
    if linear is None:

        def linear(name: str, x: torch.Tensor) -> torch.Tensor:
            return F.linear(x, params[name])

    batch, time = tokens.shape
    hd, heads, kv_heads = shape.head_dim, shape.n_heads, shape.n_kv_heads
    embd = params["token_embd.weight"]
    cos, sin = rope_tables(shape, time, embd.dtype)
    x = F.embedding(tokens, embd)  # (batch, time, dim)
    for i in range(shape.n_layers):
        p = f"blk.{i}."
        h = F.rms_norm(x, (shape.dim,), params[p + "attn_norm.weight"], shape.norm_eps)
        q = linear(p + "attn_q.weight", h).view(batch, time, heads, hd).transpose(1, 2)
        k = linear(p + "attn_k.weight", h).view(batch, time, kv_heads, hd)
        v = linear(p + "attn_v.weight", h).view(batch, time, kv_heads, hd)
        q, k, v = rope(q, cos, sin), rope(k.transpose(1, 2), cos, sin), v.transpose(1, 2)
        if kv_heads != heads:  # query head h reads key/value head h // group
            k = k.repeat_interleave(heads // kv_heads, dim=1)
            v = v.repeat_interleave(heads // kv_heads, dim=1)
        mixed = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        mixed = mixed.transpose(1, 2).reshape(batch, time, shape.dim)
        x = x + linear(p + "attn_output.weight", mixed)
        h = F.rms_norm(x, (shape.dim,), params[p + "ffn_norm.weight"], shape.norm_eps)
        gate = linear(p + "ffn_gate.weight", h)
        up = linear(p + "ffn_up.weight", h)
        x = x + linear(p + "ffn_down.weight", F.silu(gate) * up)
    final = F.rms_norm(x, (shape.dim,), params["output_norm.weight"], shape.norm_eps)
    head = params["token_embd.weight" if shape.tie_embeddings else "output.weight"]
    return F.linear(final, head)


def loss_of(
    params: Mapping[str, torch.Tensor], shape: LlamaShape, inputs: Any, targets: Any
) -> torch.Tensor:
    """Mean cross-entropy of predicting `targets`; numpy int arrays are accepted."""
    tokens = torch.from_numpy(np.asarray(inputs, dtype=np.int64))
    wanted = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    logits = forward(params, shape, tokens)
    return F.cross_entropy(logits.reshape(-1, shape.vocab_size), wanted.reshape(-1))


def first_grads(
    params: Mapping[str, torch.Tensor], shape: LlamaShape, inputs: Any, targets: Any
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and every parameter's gradient (unclipped), as numpy arrays."""
    for p in params.values():
        p.grad = None
    loss = loss_of(params, shape, inputs, targets)
    loss.backward()
    grads = {name: p.grad.detach().numpy().copy() for name, p in params.items()}  # type: ignore[union-attr]
    return float(loss.item()), grads


class TorchTrainer:
    """One optimiser step at a time, the app's training step in PyTorch."""

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        shape: LlamaShape,
        *,
        weight_decay: float,
        grad_clip: float,
        betas: tuple[float, float] = (0.9, 0.95),
        eps: float = 1e-8,
    ) -> None:
        self.shape = shape
        self.params = to_torch(params, torch.float32)
        self.grad_clip = grad_clip
        decay = [p for p in self.params.values() if p.ndim >= 2]
        keep = [p for p in self.params.values() if p.ndim < 2]
        self.optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": weight_decay},
                {"params": keep, "weight_decay": 0.0},
            ],
            lr=0.0,
            betas=betas,
            eps=eps,
        )

    def step(self, inputs: Any, targets: Any, lr: float) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        loss = loss_of(self.params, self.shape, inputs, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(self.params.values()), self.grad_clip)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        return float(loss.item())

"""How gradients change the weights: AdamW, gradient clipping and the learning-rate schedule.

A training step is

    loss, grads = loss_and_grads(params, shape, inputs, targets)
    clip_grad_norm(grads, max_norm=1.0)
    optimizer.step(params, grads, lr=learning_rate_at(step, ...))

Nothing here is random, so the same data in the same order gives the same weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from desktop.core.train.layers import Array


def learning_rate_at(
    step: int, *, max_lr: float, min_lr: float, warmup_steps: int, total_steps: int
) -> float:
    """Linear warmup to `max_lr`, then a cosine curve down to `min_lr` at `total_steps`.

    The warmup protects the first steps, when AdamW's moment estimates are still noisy; the
    slow decay lets the weights settle into a minimum at the end. `step` counts from 0.
    """
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)  # 0 -> 1
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def global_grad_norm(grads: Mapping[str, Array]) -> float:
    """sqrt of the sum of every gradient entry squared: the length of the whole gradient."""
    return math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))


def clip_grad_norm(grads: Mapping[str, Array], max_norm: float) -> float:
    """Shrink all gradients together (in place) so their global norm is at most `max_norm`.

    One unlucky batch can give a huge gradient; scaling it down keeps the direction but
    bounds the step. Returns the norm before clipping (worth plotting: spikes show trouble).
    """
    norm = global_grad_norm(grads)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for g in grads.values():
            g *= scale
    return norm


class AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), updating in place.

    For every weight it keeps two running averages: `m` of the gradient (the direction,
    "momentum") and `v` of the squared gradient (how big the gradients usually are). The
    step is m / sqrt(v): every weight moves at a similar pace whatever its gradients' scale.

    Weight decay pulls matrices towards zero by `lr * weight_decay` of their size each step,
    outside the Adam maths ("decoupled"), so it acts the same on every weight. The RMSNorm
    weights (the 1-D parameters) are not decayed: pulling them towards 0 would fight the
    normalisation they exist to scale.

    `m`, `v` and `steps` are the whole state: a checkpoint saves them and a resumed run
    assigns them back.
    """

    def __init__(
        self,
        params: Mapping[str, Array],
        *,
        beta1: float = 0.9,
        beta2: float = 0.95,
        eps: float = 1e-8,
        weight_decay: float = 0.1,
    ) -> None:
        self.beta1, self.beta2, self.eps, self.weight_decay = beta1, beta2, eps, weight_decay
        self.m: dict[str, Array] = {name: np.zeros_like(p) for name, p in params.items()}
        self.v: dict[str, Array] = {name: np.zeros_like(p) for name, p in params.items()}
        self.steps = 0  # updates done so far

    def step(self, params: Mapping[str, Array], grads: Mapping[str, Array], lr: float) -> None:
        self.steps += 1
        b1, b2 = self.beta1, self.beta2
        # Both averages start at 0, so early on they are too small; dividing by
        # (1 - beta ** steps) corrects that bias exactly.
        correction1 = 1.0 - b1**self.steps
        correction2 = 1.0 - b2**self.steps
        for name, p in params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            m *= b1
            m += (1.0 - b1) * g  # m = b1 m + (1 - b1) g
            v *= b2
            v += (1.0 - b2) * (g * g)  # v = b2 v + (1 - b2) g²
            if p.ndim >= 2 and self.weight_decay:
                p *= 1.0 - lr * self.weight_decay  # decoupled weight decay
            denominator = np.sqrt(v / correction2)
            denominator += self.eps
            p -= (lr / correction1) * m / denominator  # p -= lr · m̂ / (sqrt(v̂) + eps)

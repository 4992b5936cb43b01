"""Fine-tuning in PyTorch (eager, CPU), the numpy side's twin for `bench_sft.py`: the same
network (`torch_llama.forward`), the loss masked to the assistant's tokens (weighted
cross-entropy over the total weight), AdamW with the same betas, eps and decay, the same
clipping and learning rates.

LoRA is done the way PEFT does it, the usual PyTorch way: the base weights frozen
(`requires_grad=False`, so autograd never computes their gradients), and each adapted
matrix product `x Wᵀ + s · (x Aᵀ) Bᵀ` — the adapters never merged into the weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import torch_llama

from desktop.core.models.gguf_writer import LlamaShape


def masked_loss(logits: torch.Tensor, targets: Any, weights: Any) -> torch.Tensor:
    wanted = torch.from_numpy(np.asarray(targets, dtype=np.int64)).reshape(-1)
    w = torch.from_numpy(np.asarray(weights, dtype=np.float32)).reshape(-1)
    per_token = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), wanted, reduction="none")
    return (per_token * w).sum() / w.sum()


class TorchSft:
    """One optimiser step at a time: every weight (`lora` None) or LoRA adapters."""

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        shape: LlamaShape,
        *,
        lora: Any = None,  # desktop.core.posttrain.lora.LoraSpec
        adapters: Mapping[str, np.ndarray] | None = None,
        weight_decay: float = 0.0,
        grad_clip: float = 1.0,
    ) -> None:
        self.shape, self.grad_clip, self.lora = shape, grad_clip, lora
        self.params = torch_llama.to_torch(params, torch.float32)
        if lora is None:
            trained = list(self.params.values())
        else:
            for p in self.params.values():
                p.requires_grad_(False)
            assert adapters is not None
            self.adapters = torch_llama.to_torch(adapters, torch.float32)
            trained = list(self.adapters.values())
        self.trained = trained
        self.optimizer = torch.optim.AdamW(trained, lr=0.0, betas=(0.9, 0.95), eps=1e-8,
                                           weight_decay=weight_decay)  # fmt: skip

    def _linear(self, name: str, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.params[name])
        a = self.adapters.get(name + ".lora_a")
        if a is None:
            return y
        return y + self.lora.scale * F.linear(F.linear(x, a), self.adapters[name + ".lora_b"])

    def step(self, inputs: Any, targets: Any, weights: Any, lr: float) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        tokens = torch.from_numpy(np.asarray(inputs, dtype=np.int64))
        linear = self._linear if self.lora is not None else None
        logits = torch_llama.forward(self.params, self.shape, tokens, linear)
        loss = masked_loss(logits, targets, weights)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.trained, self.grad_clip)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        return float(loss.item())

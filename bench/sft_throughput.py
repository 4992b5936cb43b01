"""Fine-tuning speed, numpy against its PyTorch twin (`torch_sft.py`), for `bench_sft.py`.

A model shaped like SmolLM2-135M (random weights; 30 layers, 576 wide, 9 heads sharing 3,
a tied 49152-token head), batches of 8 conversations of 256 tokens whose last two thirds
are the assistant's (the loss mask), the same initial weights and batches on both sides.
Full fine-tuning and LoRA (rank 8, alpha 16, q/k/v/o), each with all cores on both sides:
the numpy step as `deepdive-lab sft` computes it (`run_training`'s micro-batches and
threads, planned by `plan_compute`), PyTorch at all its threads. The two alternate
step by step, the order swapped each round; rounds with much other load are left out
when enough clean ones exist.

Quick mode: the quick tiny shape (2 layers, 64 wide, 4096 tokens), context 32, batch 4,
one round.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Any

from common import ForeignLoad, median, quick_mode

QUICK = quick_mode()
ROUNDS = 1 if QUICK else 3
WARMUP = 1
CLEAN_LOAD = 0.10
CONTEXT = 32 if QUICK else 256
BATCH = 4 if QUICK else 8
RATIO_GOAL = 0.8
RATIO_MOONSHOT = 1.0
CORES = os.cpu_count() or 1


def bench_shape() -> Any:
    from common import tiny_shape

    from desktop.core.models.gguf_writer import SMOLLM2_135M_SHAPE

    return replace(tiny_shape() if QUICK else SMOLLM2_135M_SHAPE, context_length=CONTEXT)


def sft_batches(shape: Any, n: int) -> list[tuple[Any, Any, Any]]:
    """(inputs, targets, weights): random conversations, the assistant's last two thirds."""
    import numpy as np

    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        rows = rng.integers(0, shape.vocab_size, size=(BATCH, CONTEXT + 1))
        weights = np.zeros((BATCH, CONTEXT), dtype=np.float32)
        weights[:, CONTEXT // 3 :] = 1.0
        out.append((rows[:, :-1], rows[:, 1:], weights))
    return out


class NumpySft:
    """The loop body of `run_training` for a fine-tuning job: micro-batches on threads as
    planned, clipping, AdamW on what the run trains (every weight, or the adapters)."""

    def __init__(self, params: Any, shape: Any, compute: Any, lora: Any = None) -> None:
        from desktop.core.posttrain.lora import LoraLoss, init_adapters
        from desktop.core.train.optim import AdamW
        from desktop.core.train.step import NEXT_TOKEN, Accumulator

        self.shape, self.compute = shape, compute
        if lora is None:
            self.trained, objective = params, NEXT_TOKEN
        else:
            self.trained = init_adapters(lora, params, shape, seed=0)
            objective = LoraLoss(lora, params)
        self.optimizer = AdamW(self.trained, weight_decay=0.0)
        self.accumulator = Accumulator(objective, compute.micro_rows, compute.workers)

    def step(self, inputs: Any, targets: Any, weights: Any, lr: float) -> float:
        from desktop.core.train.batches import Batch
        from desktop.core.train.optim import clip_grad_norm

        loss, grads = self.accumulator.loss_and_grads(
            self.trained, self.shape, Batch(inputs, targets, weights)
        )
        clip_grad_norm(grads, 1.0)
        self.optimizer.step(self.trained, grads, lr)
        return loss


def _agreement(ours: NumpySft, theirs: Any, batch: Any) -> dict[str, str]:
    """The first step's loss and the trained parameters' gradients, numpy vs torch."""
    import numpy as np

    from desktop.core.train.batches import Batch

    loss, grads = ours.accumulator.loss_and_grads(ours.trained, ours.shape, Batch(*batch))
    import torch

    inputs, targets, weights = batch
    tokens = torch.from_numpy(np.asarray(inputs, dtype=np.int64))
    linear = theirs._linear if theirs.lora is not None else None
    import torch_llama
    import torch_sft

    theirs.optimizer.zero_grad(set_to_none=True)
    t_loss = torch_sft.masked_loss(torch_llama.forward(theirs.params, ours.shape, tokens, linear),
                                   targets, weights)  # fmt: skip
    t_loss.backward()
    source = theirs.adapters if theirs.lora is not None else theirs.params
    worst = 0.0
    for name, tensor in source.items():
        if tensor.grad is None:
            continue
        g, t = np.asarray(grads[name], np.float64), tensor.grad.numpy().astype(np.float64)
        worst = max(worst, float(np.linalg.norm(g - t) / max(np.linalg.norm(t), 1e-30)))
    theirs.optimizer.zero_grad(set_to_none=True)
    return {"loss_rel_diff": f"{abs(loss - t_loss.item()) / abs(t_loss.item()):.1e}",
            "grad_rel_diff_max": f"{worst:.1e}"}  # fmt: skip


def compare_method(method: str, initial: Any, shape: Any, batches: list[Any]) -> dict[str, Any]:
    import torch
    import torch_sft

    from desktop.core.posttrain.lora import LoraSpec
    from desktop.core.posttrain.sft_settings import SftSettings, sft_config
    from desktop.core.train.blas import set_blas_threads
    from desktop.core.train.compute import ThreadPolicy, applied, plan_compute
    from desktop.core.train.model import parameter_count

    lora = LoraSpec() if method == "lora" else None
    settings = SftSettings(method="lora" if lora else "full", batch_size=BATCH, context=CONTEXT)
    config = sft_config(settings, shape, parameter_count(shape), 100, 10)
    compute = plan_compute(config, ThreadPolicy.ALL_CORES)
    copy = {k: v.copy() for k, v in initial.items()}
    ours = NumpySft(copy, shape, compute, lora)
    adapters = {k: v.copy() for k, v in ours.trained.items()} if lora else None
    theirs = torch_sft.TorchSft(initial, shape, lora=lora, adapters=adapters)
    agreement = _agreement(ours, theirs, batches[0])
    tokens = BATCH * CONTEXT
    rounds = []
    with applied(compute):
        set_blas_threads(compute.blas_threads)
        torch.set_num_threads(CORES)
        for i in range(WARMUP):
            ours.step(*batches[i], 1e-4)
            theirs.step(*batches[i], 1e-4)
        for r in range(ROUNDS):
            i = WARMUP + r
            load = ForeignLoad()
            load.start()
            timing = {}
            for side in ("numpy", "torch") if r % 2 == 0 else ("torch", "numpy"):
                start = time.perf_counter()
                (ours if side == "numpy" else theirs).step(*batches[i], 1e-4)
                timing[side] = time.perf_counter() - start
            rounds.append({"load": load.stop(), **timing})
    clean = [r for r in rounds if r["load"] <= CLEAN_LOAD]
    need = max(1, ROUNDS // 2 + 1)
    used = clean if len(clean) >= need else sorted(rounds, key=lambda r: r["load"])[:need]
    np_s, t_s = median([r["numpy"] for r in used]), median([r["torch"] for r in used])
    result = {
        "numpy_tokens_s": tokens / np_s, "torch_tokens_s": tokens / t_s, "ratio": t_s / np_s,
        "numpy_plan": {"micro_rows": compute.micro_rows, "workers": compute.workers,
                       "blas_threads": compute.blas_threads},
        "torch_threads": CORES, "rounds_used": len(used), "contended": len(clean) < need,
        "foreign_load_median": median([r["load"] for r in rounds]),
        "first_step": agreement,
    }  # fmt: skip
    print(f"{method:4}: numpy {result['numpy_tokens_s']:7,.0f} vs torch "
          f"{result['torch_tokens_s']:7,.0f} tokens/s, ratio {result['ratio']:.2f}; first step: "
          f"loss {agreement['loss_rel_diff']}, gradients {agreement['grad_rel_diff_max']} "
          f"apart; other load {result['foreign_load_median']:.0%}", flush=True)  # fmt: skip
    return result


def throughput() -> dict[str, Any]:
    from desktop.core.models.gguf_writer import random_llama_weights
    from desktop.core.train.model import keep_freed_memory

    keep_freed_memory()  # as run_training does; PyTorch's steps get it too
    shape = bench_shape()
    initial = random_llama_weights(shape, seed=0)
    batches = sft_batches(shape, WARMUP + ROUNDS)
    print(f"fine-tuning speed: {shape.n_layers} layers × {shape.dim}, vocabulary "
          f"{shape.vocab_size}, batch {BATCH} × {CONTEXT} tokens (two thirds learned), "
          f"{CORES} cores", flush=True)  # fmt: skip
    try:
        import torch
    except ImportError:
        return {"torch_version": None}
    methods = {m: compare_method(m, initial, shape, batches) for m in ("full", "lora")}
    return {
        "torch_version": torch.__version__, "batch": BATCH, "context": CONTEXT,
        "methods": methods, "ratio_goal": RATIO_GOAL, "ratio_moonshot": RATIO_MOONSHOT,
        "goals_met": {m: r["ratio"] >= RATIO_GOAL for m, r in methods.items()},
        "moonshots_met": {m: r["ratio"] >= RATIO_MOONSHOT for m, r in methods.items()},
    }  # fmt: skip

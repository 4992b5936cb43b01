"""Peak memory of fine-tuning, full against LoRA, for `bench_sft.py`: each in a fresh child
process (no PyTorch in it) that builds the SmolLM2-135M-shaped model, then trains a few
steps of batch 8 × 256 as `run_training` computes them — with the command line's plan
(a micro-batch per core) and the app's (one thread, a core left to the window). The
figure is the child's peak resident memory (VmHWM), against the estimate the Post-train
tab shows before Start.

Quick mode: the tiny shape, one step.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from common import quick_mode

QUICK = quick_mode()
STEPS = 1 if QUICK else 2
LORA_GOAL_MB = 1500.0


def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(method: str, policy_name: str, conn: Any) -> None:
    from sft_throughput import BATCH, CONTEXT, NumpySft, bench_shape, sft_batches

    from desktop.core.models.gguf_writer import random_llama_weights
    from desktop.core.posttrain.lora import LoraSpec
    from desktop.core.posttrain.memory_plan import planned_memory
    from desktop.core.posttrain.sft_settings import SftSettings, sft_config
    from desktop.core.train.compute import ThreadPolicy, applied, plan_compute
    from desktop.core.train.model import parameter_count

    shape = bench_shape()
    policy = ThreadPolicy[policy_name]
    lora = LoraSpec() if method == "lora" else None
    settings = SftSettings(method="lora" if lora else "full", batch_size=BATCH, context=CONTEXT)
    config = sft_config(settings, shape, parameter_count(shape), 100, 10)
    compute = plan_compute(config, policy)
    batches = sft_batches(shape, STEPS)
    with applied(compute):
        weights = dict(random_llama_weights(shape, seed=0))
        after_load = _peak_mb()
        trainer = NumpySft(weights, shape, compute, lora)
        for batch in batches:
            trainer.step(*batch, 1e-4)
    need = planned_memory(shape, settings, policy)
    conn.send({"peak_mb": _peak_mb(), "after_weights_mb": after_load,
               "estimate_mb": (need.lora if lora else need.full) / 1e6,
               "micro_rows": compute.micro_rows, "workers": compute.workers})  # fmt: skip
    conn.close()


def peak_memory() -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {}
    for policy in ("ALL_CORES", "LEAVE_A_CORE"):
        for method in ("full", "lora"):
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(method, policy, send))
            child.start()
            send.close()
            try:
                figures = receive.recv()
            except EOFError:
                raise SystemExit(f"the memory measurement ({method}, {policy}) failed") from None
            child.join(30)
            out[f"{method}_{policy.lower()}"] = figures
            print(f"peak memory, {method} ({policy.lower().replace('_', ' ')}: "
                  f"{figures['workers']} × {figures['micro_rows']} rows): "
                  f"{figures['peak_mb']:,.0f} MB (estimate {figures['estimate_mb']:,.0f} MB; "
                  f"weights alone {figures['after_weights_mb']:,.0f} MB)", flush=True)  # fmt: skip
    met = all(figures["peak_mb"] <= LORA_GOAL_MB for key, figures in out.items()
              if key.startswith("lora_"))  # fmt: skip
    return {**out, "lora_goal_mb": LORA_GOAL_MB, "lora_goal_met": met}

"""Training speed, the numpy model against its PyTorch twin (`torch_llama.py`), for
`bench_train.py`.

Both train the same d=128, 4-layer, 4-head, context-128 model (vocabulary 512, ffn 344,
batch 16: the shape is pinned here, so a change to the presets does not move the
comparison) from the same initial weights on the same batches, with the same AdamW,
clipping and schedule. The numpy side is the trainer's own step (`step.Accumulator`:
micro-batches, worker threads) planned by `compute.plan_compute`, as the app and the
command line plan it. Three thread configurations, each against PyTorch with the same
threads (its strongest honest baseline):

* one thread each: numpy's BLAS and PyTorch at 1 thread;
* all cores each: the command line's plan (a micro-batch per core, BLAS at one thread
  in each) against PyTorch at all cores;
* the app's own: the Train tab's plan, on a worker thread at its lowered priority,
  against PyTorch at 1 thread (and, for the record, at all cores).

Within a configuration the two alternate in blocks of steps, order swapped every round;
a round whose other load (`ForeignLoad`) exceeded CLEAN_LOAD is left out when enough
clean ones exist. At one thread the thread's CPU time is also compared: it barely moves
when another process takes the core away.

Quick mode: a d=32, one-layer, context-32 model, one round of one step per side, one step
per preset shape; without PyTorch installed (the test run has no `bench` extra) the
comparison is left out and only the numpy parts run.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from common import ForeignLoad, median, quick_mode

QUICK = quick_mode()
WARMUP_STEPS = 1 if QUICK else 3
ROUNDS = 1 if QUICK else 8
BLOCK = 1 if QUICK else 4  # steps per framework per round
CLEAN_LOAD = 0.10
PHASE_STEPS = 1 if QUICK else 4
RATIO_GOAL = 0.8
RATIO_MOONSHOT = 1.0
AGREEMENT_GOAL = 1e-4
CORES = os.cpu_count() or 1


def throughput_config() -> Any:
    from desktop.core.train.config import PRESETS

    if QUICK:
        return replace(PRESETS["small"], preset="bench", vocab_size=300, dim=32, n_layers=1,
                       n_heads=2, n_kv_heads=2, ffn_dim=96, context=32, batch_size=4)  # fmt: skip
    return replace(
        PRESETS["small"], preset="bench", vocab_size=512, dim=128, n_layers=4, n_heads=4,
        n_kv_heads=4, ffn_dim=344, context=128, batch_size=16,
    )  # fmt: skip


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def relative(a: Any, b: Any) -> float:
    """||a - b|| / ||b||, in float64."""
    import numpy as np

    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a64 - b64) / max(np.linalg.norm(b64), 1e-300))


def agreement(params: Any, shape: Any, inputs: Any, targets: Any) -> dict[str, Any]:
    """Loss and gradients of the first batch, numpy against torch, float32 and float64."""
    import numpy as np
    import torch
    import torch_llama

    from desktop.core.train.model import loss_and_grads

    out: dict[str, Any] = {}
    for label, np_dtype, torch_dtype in (
        ("float32", np.float32, torch.float32),
        ("float64", np.float64, torch.float64),
    ):
        cast = {name: p.astype(np_dtype) for name, p in params.items()}
        loss_np, grads_np = loss_and_grads(cast, shape, inputs, targets)
        loss_t, grads_t = torch_llama.first_grads(
            torch_llama.to_torch(cast, torch_dtype), shape, inputs, targets
        )
        per_tensor = {name: relative(grads_np[name], grads_t[name]) for name in grads_t}
        worst = max(per_tensor, key=lambda name: per_tensor[name])
        loss_diff = abs(loss_np - loss_t) / abs(loss_t)
        out[label] = {  # as text: `emit` rounds floats to 4 decimals
            "loss_rel_diff": f"{loss_diff:.2e}",
            "grad_rel_diff_max": f"{per_tensor[worst]:.2e}",
            "worst_tensor": worst,
            "all_within_goal": max(per_tensor.values()) <= AGREEMENT_GOAL
            and loss_diff <= AGREEMENT_GOAL,
        }
        print(f"first step, {label}: loss {loss_np:.6f} vs {loss_t:.6f} (rel {loss_diff:.1e}); "
              f"gradients rel ‖Δ‖/‖g‖ max {per_tensor[worst]:.1e} ({worst})")  # fmt: skip
    return out


class NumpyTrainer:
    """The trainer's loop body (`trainer.train`), one step at a time, computed as
    `compute` plans it."""

    def __init__(self, params: Any, shape: Any, config: Any, compute: Any) -> None:
        from desktop.core.train.optim import AdamW
        from desktop.core.train.step import NEXT_TOKEN, Accumulator

        self.params, self.shape, self.config, self.compute = params, shape, config, compute
        self.optimizer = AdamW(params, weight_decay=config.weight_decay)
        self.accumulator = Accumulator(NEXT_TOKEN, compute.micro_rows, compute.workers)

    def step(self, inputs: Any, targets: Any, lr: float) -> float:
        from desktop.core.train.batches import Batch
        from desktop.core.train.optim import clip_grad_norm

        loss, grads = self.accumulator.loss_and_grads(
            self.params, self.shape, Batch(inputs, targets)
        )
        clip_grad_norm(grads, self.config.grad_clip)
        self.optimizer.step(self.params, grads, lr)
        return loss


def _timed_block(step: Callable[[int], Any], steps: range) -> tuple[float, float]:
    """(wall, this thread's CPU) seconds per step over `steps`."""
    wall, cpu = time.perf_counter(), time.thread_time()
    for i in steps:
        step(i)
    return (time.perf_counter() - wall) / len(steps), (time.thread_time() - cpu) / len(steps)


class _AppWorker:
    """One thread for all of a configuration's numpy blocks, as the Train tab's session
    trains on one thread for a whole run (`compute.applied`: BLAS threads, kept memory,
    lower priority). A fresh thread per block would pay OpenBLAS's per-thread buffers and
    their page faults again each time."""

    def __init__(self, compute: Any) -> None:
        import queue

        self._requests: queue.Queue[Any] = queue.Queue()
        self._results: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, args=(compute,), daemon=True)
        self._thread.start()

    def _serve(self, compute: Any) -> None:
        from desktop.core.train.compute import applied

        with applied(compute):
            while (work := self._requests.get()) is not None:
                self._results.put(work())

    def run(self, work: Callable[[], Any]) -> Any:
        self._requests.put(work)
        return self._results.get()

    def close(self) -> None:
        self._requests.put(None)
        self._thread.join()


def compare(
    label: str,
    numpy_trainer: NumpyTrainer,
    torch_trainer: Any,
    torch_threads: int,
    batches: list[Any],
    lr_at: Callable[[int], float],
    *,
    app: bool = False,
) -> dict[str, Any]:
    """Alternating blocks of steps; medians over the rounds without other load."""
    import torch

    from desktop.core.train.blas import set_blas_threads

    compute = numpy_trainer.compute
    rounds: list[dict[str, Any]] = []

    worker = _AppWorker(compute) if app else None

    def numpy_block(steps: range) -> tuple[float, float]:
        def one(i: int) -> None:
            numpy_trainer.step(*batches[i], lr_at(i))

        if worker is not None:  # the Train tab's worker thread, set up as the app sets it
            return worker.run(lambda: _timed_block(one, steps))
        set_blas_threads(compute.blas_threads)
        return _timed_block(one, steps)

    def torch_block(steps: range) -> tuple[float, float]:
        torch.set_num_threads(torch_threads)
        return _timed_block(lambda i: torch_trainer.step(*batches[i], lr_at(i)), steps)

    numpy_block(range(WARMUP_STEPS))
    torch_block(range(WARMUP_STEPS))
    for r in range(ROUNDS):
        steps = range(WARMUP_STEPS + r * BLOCK, WARMUP_STEPS + (r + 1) * BLOCK)
        load = ForeignLoad()
        load.start()
        timings = {}
        for side in ("numpy", "torch") if r % 2 == 0 else ("torch", "numpy"):
            timings[side] = (numpy_block if side == "numpy" else torch_block)(steps)
        rounds.append({"load": load.stop(), **timings})
    if worker is not None:
        worker.close()
    clean = [r for r in rounds if r["load"] <= CLEAN_LOAD]
    need = max(1, ROUNDS // 2)
    quietest = sorted(rounds, key=lambda r: r["load"])[:need]
    used = clean if len(clean) >= need else quietest
    tokens = batches[0][0].size
    np_wall, t_wall = median([r["numpy"][0] for r in used]), median([r["torch"][0] for r in used])
    np_cpu, t_cpu = median([r["numpy"][1] for r in used]), median([r["torch"][1] for r in used])
    result = {
        "numpy": {"micro_rows": compute.micro_rows, "workers": compute.workers,
                  "blas_threads": compute.blas_threads, "background": compute.background},
        "torch_threads": torch_threads,
        "numpy_tokens_s": tokens / np_wall,
        "torch_tokens_s": tokens / t_wall,
        "ratio": t_wall / np_wall,
        "rounds_used": len(used),
        "contended": len(clean) < need,
        "foreign_load_median": median([r["load"] for r in rounds]),
        "foreign_load_used_max": max(r["load"] for r in used),
    }  # fmt: skip
    if compute.workers == 1 and torch_threads == 1:  # both in this thread: CPU time compares
        result["ratio_cpu_time"] = t_cpu / np_cpu
    print(f"{label:34} numpy {result['numpy_tokens_s']:7,.0f} vs torch "
          f"{result['torch_tokens_s']:7,.0f} tokens/s: ratio {result['ratio']:.2f}"
          + (f" (CPU time {result['ratio_cpu_time']:.2f})" if "ratio_cpu_time" in result else "")
          + f"; other load {result['foreign_load_median']:.0%} (rounds used: "
          f"{len(used)}{', contended' if result['contended'] else ''})", flush=True)  # fmt: skip
    return result


def micro_batch_sweep(params: Any, shape: Any, batch: Any, chosen: int) -> dict[str, Any]:
    """One thread: tokens/s (thread CPU time) for every micro-batch size that divides the
    batch, against the one the cache plan picks."""
    from desktop.core.train.blas import set_blas_threads
    from desktop.core.train.step import NEXT_TOKEN, Accumulator

    set_blas_threads(1)
    sizes = [r for r in range(1, batch.rows + 1) if batch.rows % r == 0]
    accumulators = {r: Accumulator(NEXT_TOKEN, r) for r in sizes}
    times: dict[int, list[float]] = {r: [] for r in sizes}
    for r in sizes:
        accumulators[r].loss_and_grads(params, shape, batch)
    for round_ in range(1 if QUICK else 4):
        for r in sizes if round_ % 2 == 0 else sizes[::-1]:
            start = time.thread_time()
            accumulators[r].loss_and_grads(params, shape, batch)
            times[r].append(time.thread_time() - start)
    speed = {r: batch.tokens / median(t) for r, t in times.items()}
    best = max(speed, key=lambda r: speed[r])
    print("micro-batch sweep, one thread (CPU time): " + ", ".join(
        f"{r} rows {s:,.0f}" for r, s in speed.items()) + f" tokens/s; the plan picks {chosen} "
        f"({speed[chosen] / speed[best]:.0%} of the best, {best})", flush=True)  # fmt: skip
    return {"tokens_s_by_rows": {str(r): s for r, s in speed.items()}, "chosen_rows": chosen,
            "best_rows": best, "chosen_vs_best": speed[chosen] / speed[best]}  # fmt: skip


PRESET_SHAPES = {  # (preset, context, batch): before and after contexts of 1024
    "tiny, context 64 × 16 (before)": ("tiny", 64, 16),
    "tiny, context 512 × 2": ("tiny", 512, 2),
    "tiny, context 1024 × 1 (now)": ("tiny", 1024, 1),
    "small, context 128 × 16 (before)": ("small", 128, 16),
    "small, context 512 × 4": ("small", 512, 4),
    "small, context 1024 × 2 (now)": ("small", 1024, 2),
}


def preset_speeds() -> dict[str, Any]:
    """tokens/s of a training step (forward, backward, clipping, AdamW) of each preset
    shape as the Train tab computes it (one thread, its micro-batches and query blocks),
    by wall clock and by CPU time; random tokens."""
    import numpy as np

    from desktop.core.train.blas import set_blas_threads
    from desktop.core.train.compute import ThreadPolicy, plan_compute
    from desktop.core.train.config import preset
    from desktop.core.train.model import init_params

    set_blas_threads(1)
    out: dict[str, Any] = {}
    for label, (name, context, rows) in PRESET_SHAPES.items():
        config = preset(name, context=context, batch_size=rows)
        plan = plan_compute(config, ThreadPolicy.LEAVE_A_CORE)
        trainer = NumpyTrainer(init_params(config.shape(), config.seed), config.shape(), config,
                               plan)  # fmt: skip
        rng = np.random.default_rng(0)
        inputs, targets = (rng.integers(0, config.vocab_size, (rows, context)) for _ in range(2))
        trainer.step(inputs, targets, 1e-3)
        load = ForeignLoad()
        load.start()
        walls, cpus = [], []
        for _ in range(1 if QUICK else 12 if name == "tiny" else 5):
            wall, cpu = time.perf_counter(), time.thread_time()
            trainer.step(inputs, targets, 1e-3)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.thread_time() - cpu)
        tokens = rows * context
        out[label] = {
            "tokens_per_step": tokens,
            "micro_rows": plan.micro_rows,
            "tokens_s": tokens / median(walls),
            "tokens_s_cpu_time": tokens / median(cpus),
            "foreign_load": load.stop(),
        }
        print(f"{label:34} {out[label]['tokens_s']:7,.0f} tokens/s (CPU time "
              f"{out[label]['tokens_s_cpu_time']:,.0f}); other load "
              f"{out[label]['foreign_load']:.0%}", flush=True)  # fmt: skip
    return out


def phase_split(trainer: NumpyTrainer, batches: list[Any], lr: float) -> dict[str, float]:
    """Median ms of forward (+ loss), backward, and clip + AdamW (whole batch, one thread)."""
    from desktop.core.train.blas import set_blas_threads
    from desktop.core.train.layers import cross_entropy_backward, cross_entropy_forward
    from desktop.core.train.model import backward, forward
    from desktop.core.train.optim import clip_grad_norm

    set_blas_threads(1)
    shape = trainer.shape
    times: dict[str, list[float]] = {"forward": [], "backward": [], "optimizer": []}
    for inputs, targets in batches:
        t0 = time.perf_counter()
        logits, cache = forward(trainer.params, shape, inputs)
        _, ce = cross_entropy_forward(logits.reshape(-1, shape.vocab_size), targets.reshape(-1))
        t1 = time.perf_counter()
        grads = backward(trainer.params, shape, cache, cross_entropy_backward(ce))
        t2 = time.perf_counter()
        clip_grad_norm(grads, trainer.config.grad_clip)
        trainer.optimizer.step(trainer.params, grads, lr)
        t3 = time.perf_counter()
        for key, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            times[key].append(seconds * 1000)
    return {key: median(values) for key, values in times.items()}


def profile(trainer: NumpyTrainer, batches: list[Any], lr: float) -> list[list[Any]]:
    """The functions with the most own time (matrix products count in their caller)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for inputs, targets in batches:
        trainer.step(inputs, targets, lr)
    profiler.disable()
    rows = [[name, tottime * 1000 / len(batches)] for (_f, _l, name), (_c, _n, tottime, _t, _)
            in pstats.Stats(profiler).stats.items()]  # type: ignore[attr-defined]  # fmt: skip
    rows.sort(key=lambda row: -row[1])
    return rows[:10]


def throughput(text: str) -> dict[str, Any]:
    import numpy as np

    from desktop.core.train.batches import Batch
    from desktop.core.train.compute import ThreadPolicy, plan_compute
    from desktop.core.train.cpu_cache import read_cache_sizes
    from desktop.core.train.model import init_params, keep_freed_memory
    from desktop.core.train.optim import learning_rate_at
    from desktop.core.train.prepare import prepare

    # glibc keeping freed memory is process-wide and the trainer always sets it
    # (`compute.applied`); PyTorch's steps get it too — ~1.7x faster here, the strongest
    # baseline. Without it both pay page faults for every step's fresh activations.
    keep_freed_memory()
    with_torch = torch_available()
    config = throughput_config()
    prepared = prepare(text, config)
    shape = replace(config.shape(), vocab_size=prepared.tokenizer.n_vocab)
    rng = np.random.default_rng(config.seed)
    n_steps = WARMUP_STEPS + ROUNDS * BLOCK
    batches = [prepared.data.batch(rng, config.batch_size, config.context)
               for _ in range(n_steps + PHASE_STEPS)]  # fmt: skip
    cache = read_cache_sizes()
    print(f"model: d={shape.dim}, {shape.n_layers} layers, {shape.n_heads} heads, context "
          f"{shape.context_length}, ffn {shape.ffn_dim}, vocab {shape.vocab_size}, batch "
          f"{config.batch_size} ({config.tokens_per_step} tokens/step); {CORES} cores; cache: "
          f"L2 {cache.l2_bytes >> 10} KiB, L3 {(cache.l3_bytes or 0) >> 20} MiB shared by "
          f"{cache.l3_shared_by}" + ("" if with_torch else "; no PyTorch here"))  # fmt: skip
    initial = init_params(shape, config.seed)

    def lr_at(step: int) -> float:
        return learning_rate_at(step, max_lr=config.learning_rate,
                                min_lr=config.min_learning_rate, total_steps=config.steps,
                                warmup_steps=config.warmup_steps)  # fmt: skip

    app_plan = plan_compute(config, ThreadPolicy.LEAVE_A_CORE, cache=cache)
    ours = NumpyTrainer({k: v.copy() for k, v in initial.items()}, shape, config, app_plan)
    result: dict[str, Any] = {
        "shape": {"dim": shape.dim, "n_layers": shape.n_layers, "n_heads": shape.n_heads,
                  "context": shape.context_length, "ffn_dim": shape.ffn_dim,
                  "vocab": shape.vocab_size, "batch": config.batch_size},
        "cores": CORES,
        "cache": {"l2_bytes": cache.l2_bytes, "l3_bytes": cache.l3_bytes,
                  "l3_shared_by": cache.l3_shared_by, "read": cache.measured},
        "ratio_goal": RATIO_GOAL,
        "ratio_moonshot": RATIO_MOONSHOT,
        "agreement_goal": AGREEMENT_GOAL,
        "torch_version": None,
    }  # fmt: skip
    if with_torch:
        result.update(_against_torch(initial, shape, config, batches, lr_at, app_plan, cache))
        ours = result.pop("_app_trainer")
    extra = batches[n_steps:]
    lr = lr_at(n_steps)
    result["micro_batch_sweep"] = micro_batch_sweep(
        ours.params, shape, Batch(*batches[0]), app_plan.micro_rows
    )
    phases = result["phases_ms"] = phase_split(ours, extra, lr)
    print(f"numpy step split (one thread, whole batch): forward+loss {phases['forward']:.0f} ms, "
          f"backward {phases['backward']:.0f} ms, clip+AdamW {phases['optimizer']:.0f} ms",
          flush=True)  # fmt: skip
    top = result["numpy_profile_ms"] = profile(ours, extra[:2], lr)
    print("numpy profile, own ms/step: " + ", ".join(f"{n} {ms:.0f}" for n, ms in top[:8]),
          flush=True)  # fmt: skip
    return result


def _against_torch(
    initial: Any,
    shape: Any,
    config: Any,
    batches: list[Any],
    lr_at: Callable[[int], float],
    app_plan: Any,
    cache: Any,
) -> dict[str, Any]:
    """The three thread configurations (and two for the record) against PyTorch."""
    import torch
    import torch_llama

    from desktop.core.train.compute import Compute, ThreadPolicy, plan_compute

    def pair(compute: Any) -> tuple[NumpyTrainer, Any]:
        ours = NumpyTrainer({k: v.copy() for k, v in initial.items()}, shape, config, compute)
        theirs = torch_llama.TorchTrainer(initial, shape, weight_decay=config.weight_decay,
                                          grad_clip=config.grad_clip)  # fmt: skip
        return ours, theirs

    agree = agreement(initial, shape, *batches[0])
    all_plan = plan_compute(config, ThreadPolicy.ALL_CORES, cache=cache)
    configs: dict[str, Any] = {}
    configs["one_thread"] = compare("one thread each", *pair(replace(app_plan, background=False)),
                                    1, batches, lr_at)  # fmt: skip
    configs["all_cores"] = compare(f"all {CORES} cores each", *pair(all_plan), CORES, batches,
                                   lr_at)  # fmt: skip
    ours, theirs = pair(app_plan)
    configs["app"] = compare("the app's (numpy 1 thread, niced)", ours, theirs, 1, batches,
                             lr_at, app=True)  # fmt: skip
    configs["app_vs_torch_all_cores"] = compare("the app's vs torch at all cores", *pair(app_plan),
                                                CORES, batches, lr_at, app=True)  # fmt: skip
    before = Compute(micro_rows=config.batch_size, blas_threads=CORES)
    configs["numpy_blas_all_cores_whole_batch"] = compare(
        "(before: whole batch, BLAS at all cores)", *pair(before), CORES, batches, lr_at
    )
    goals = {name: configs[name]["ratio"] >= RATIO_GOAL
             for name in ("one_thread", "all_cores", "app")}  # fmt: skip
    return {
        "torch_version": torch.__version__,
        "configs": configs,
        "goals_met": goals,
        "moonshots_met": {n: configs[n]["ratio"] >= RATIO_MOONSHOT for n in goals},
        "first_step": agree,
        "_app_trainer": ours,
    }

"""Training from scratch: speed against PyTorch, learning, memory and the GUI meanwhile.

1. Throughput (`train_throughput.py`): the numpy model against its PyTorch twin in three
   thread configurations (one thread each, all cores each, the app's own), the first-step
   loss/gradient agreement, a sweep of micro-batch sizes against the cache plan's choice,
   a per-phase split and a profile; then each preset's shape before and after contexts
   of 1024, as the Train tab computes it.
2. Learning, in a child process that never imports torch, through `run_training` as the
   Train tab runs it: the "tiny" preset's whole run (tokenizer included) on the stdlib
   docs, then the "small" preset for up to 3 minutes against the bigram baseline.
3. Peak memory of that child while preparing the data and while training.
4. GUI stall (`train_gui.py`): a real `TrainTab` trains the tiny, then the small preset,
   as the app is and with Qt's paint helper threads off.

Quick mode (`--quick`): a tiny model for the comparison (left out without PyTorch), 10
steps of each preset, 1 s of GUI per preset.
"""

from __future__ import annotations

import gc
import resource
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ForeignLoad, emit, isolate_home, machine, median, quick_mode

QUICK = quick_mode()
LEARN_SECONDS = 180.0
LEARN_EVAL_EVERY = 5 if QUICK else 50  # the preset evaluates every 100 steps
QUICK_STEPS = 10
TINY_GOAL_S = 60.0


def _maxrss_mb() -> float:
    """This process's peak RSS. VmHWM first: ru_maxrss survives execve on Linux, so a spawned
    child would report the peak of the parent it was forked from (here: with torch)."""
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Restart VmHWM from the current RSS (Linux ≥ 4.0), to see training's own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _in_worker(work: Any) -> Any:
    """Run `work()` on a thread of its own, as the Train tab's session does (the app's
    policy lowers that thread's priority, never the main thread's)."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join()
    return out[0]


def tiny_run() -> dict[str, Any]:
    """The whole tiny preset as the Train tab runs it: tokenizer, 300 steps, evaluations,
    samples, saves."""
    import tempfile

    from desktop.core.job_state import CancelToken
    from desktop.core.train.compute import ThreadPolicy
    from desktop.core.train.config import fit_schedule, preset
    from desktop.core.train.corpus import STDLIB, stdlib_corpus
    from desktop.core.train.run_training import Finished, Ready, TrainingJob, run_training

    stdlib_corpus()  # built and cached first: the app builds it once, not per run
    folder = Path(tempfile.mkdtemp(prefix="tiny-run-"))
    config = fit_schedule(preset("tiny", steps=QUICK_STEPS)) if QUICK else preset("tiny")
    job = TrainingJob(config, STDLIB, folder, policy=ThreadPolicy.LEAVE_A_CORE)

    def work() -> dict[str, Any]:
        load = ForeignLoad()
        load.start()
        start = time.perf_counter()
        ready_at, last = start, None
        for event in run_training(job, CancelToken()):
            if isinstance(event, Ready):
                ready_at = time.perf_counter()
            elif isinstance(event, Finished):
                last = event.outcome
        assert last is not None
        total = time.perf_counter() - start
        return {"seconds": total, "preparing_s": ready_at - start, "steps": last.run.step,
                "tokens_per_s": last.run.tokens_seen / last.run.elapsed_s,
                "val_loss": last.run.history[-1].get("val_loss"), "foreign_load": load.stop(),
                "goal_s": TINY_GOAL_S}  # fmt: skip

    result: dict[str, Any] = _in_worker(work)
    print(f"tiny preset, whole run as the Train tab runs it: {result['seconds']:.1f} s "
          f"({result['preparing_s']:.1f} s tokenizer and data, {result['steps']} steps at "
          f"{result['tokens_per_s']:,.0f} tokens/s); validation {result['val_loss']:.3f}; "
          f"other load {result['foreign_load']:.0%}", flush=True)  # fmt: skip
    return result


def learn() -> dict[str, Any]:
    """The small preset through `run_training` with the app's policy, for ≤ 3 minutes."""
    import tracemalloc

    from desktop.core.job_state import CancelToken
    from desktop.core.train.batches import Batch
    from desktop.core.train.compute import ThreadPolicy
    from desktop.core.train.config import preset, training_memory_bytes
    from desktop.core.train.corpus import STDLIB
    from desktop.core.train.data import TokenData, bigram_loss
    from desktop.core.train.run_training import Ready, TrainingJob, run_training
    from desktop.core.train.step import NEXT_TOKEN, Accumulator
    from desktop.core.train.trainer import StepMetrics

    config = preset("small", eval_every=LEARN_EVAL_EVERY)
    if QUICK:
        config = replace(config, steps=QUICK_STEPS, warmup_steps=2, sample_every=QUICK_STEPS)
    token = CancelToken()
    job = TrainingJob(config, STDLIB, policy=ThreadPolicy.LEAVE_A_CORE)
    figures: dict[str, Any] = {}
    gc.collect()
    _reset_peak_rss()  # the tiny run before this one is not this run's peak

    def work() -> None:
        curve: list[dict[str, float]] = []
        beat, last, ready = None, None, None
        step_ms: list[float] = []
        previous = 0.0
        start = time.perf_counter()
        load = ForeignLoad()
        for event in run_training(job, token):
            if isinstance(event, Ready):
                ready = event
                assert isinstance(ready.data, TokenData)
                figures["prepare_s"] = time.perf_counter() - start
                figures["bigram"] = bigram_loss(ready.data, ready.tokenizer.n_vocab)
                figures["rss_before_mb"] = _maxrss_mb()
                gc.collect()
                figures["rss_start_mb"] = _status_mb("VmRSS")
                figures["reset"] = _reset_peak_rss()
                load.start()
                print(f"learning: small preset (context {config.context}, batch "
                      f"{config.batch_size}, micro-batches of {ready.compute.micro_rows}) on "
                      f"{ready.corpus_tokens:,} tokens (BPE {ready.tokenizer.n_vocab} + encoding "
                      f"{figures['prepare_s']:.1f} s); bigram validation loss "
                      f"{figures['bigram']:.3f}", flush=True)  # fmt: skip
                continue
            if not isinstance(event, StepMetrics):
                continue
            m = event
            if last is not None and last.val_loss is None and last.sample is None:
                step_ms.append((m.elapsed_s - previous) * 1000)  # a plain step
            previous, last = m.elapsed_s, m
            if m.val_loss is not None:
                curve.append({"step": m.step, "elapsed_s": m.elapsed_s, "val_loss": m.val_loss,
                              "train_eval_loss": float(m.train_eval_loss or 0.0)})  # fmt: skip
                if beat is None and m.val_loss < figures["bigram"]:
                    beat = {"step": m.step, "elapsed_s": m.elapsed_s, "val_loss": m.val_loss}
                print(f"  step {m.step:5d}  {m.elapsed_s:6.1f} s  validation {m.val_loss:.3f}  "
                      f"{m.tokens_per_s:6,.0f} tokens/s"
                      + ("  ← beats the bigram" if beat and beat["step"] == m.step else ""),
                      flush=True)  # fmt: skip
            if m.elapsed_s >= LEARN_SECONDS or (beat is not None and m.step >= 2 * beat["step"]):
                token.cancel()
        assert last is not None and ready is not None
        figures.update(curve=curve, beat=beat, last=last, step_ms=step_ms,
                       foreign=load.stop(), ready=ready)  # fmt: skip

    _in_worker(work)
    last, ready = figures["last"], figures["ready"]
    training_hwm = _status_mb("VmHWM") if figures["reset"] else None
    # tracemalloc's peak over one more step (numpy reports its buffers to it)
    assert isinstance(ready.data, TokenData)
    batch: Batch = ready.data.train_batch(ready.run.rng, config.batch_size, config.context)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    with Accumulator(NEXT_TOKEN, ready.compute.micro_rows) as accumulator:
        accumulator.loss_and_grads(ready.run.params, ready.run.shape, batch)
    step_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    beat = figures["beat"]
    if beat is None:
        print(f"  did not beat the bigram ({figures['bigram']:.3f}) in {last.elapsed_s:.0f} s")
    else:
        print(f"  beat the bigram at step {beat['step']}, {beat['elapsed_s']:.0f} s "
              f"(goal ≤ {LEARN_SECONDS:.0f} s)", flush=True)  # fmt: skip
    per_step = median(figures["step_ms"])
    print(f"  median {per_step:.0f} ms/step ({config.tokens_per_step / per_step * 1000:,.0f} "
          f"tokens/s); other load {figures['foreign']:.0%}", flush=True)  # fmt: skip
    estimate = training_memory_bytes(config, ready.compute.micro_rows) / 1e6
    print(
        f"memory: peak RSS {figures['rss_before_mb']:.0f} MB while preparing the data; "
        f"during training {training_hwm or 0:.0f} MB (from {figures['rss_start_mb'] or 0:.0f} "
        "MB); one step "
        f"allocates up to {step_peak / 1e6:.0f} MB (estimate {estimate:.0f} MB)",
        flush=True,
    )
    return {
        "preset": "small", "context": config.context, "batch": config.batch_size,
        "micro_rows": ready.compute.micro_rows, "eval_every": LEARN_EVAL_EVERY,
        "tokens": ready.corpus_tokens, "n_vocab": ready.tokenizer.n_vocab,
        "prepare_s": figures["prepare_s"], "bigram_val_loss": figures["bigram"],
        "val_curve": figures["curve"], "beats_bigram": beat, "goal_s": LEARN_SECONDS,
        "steps_done": last.step, "elapsed_s": last.elapsed_s, "median_step_ms": per_step,
        "foreign_load": figures["foreign"],
        "memory": {"peak_rss_preparing_mb": figures["rss_before_mb"],
                   "rss_training_start_mb": figures["rss_start_mb"],
                   "peak_rss_training_mb": training_hwm,
                   "step_peak_traced_mb": step_peak / 1e6, "estimate_mb": estimate},
    }  # fmt: skip


def _learn_child(conn: Any) -> None:
    conn.send({"tiny_run": tiny_run(), "learning": learn()})
    conn.close()


def learn_in_child() -> dict[str, Any]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_learn_child, args=(send,))
    process.start()
    send.close()
    try:
        result: dict[str, Any] = receive.recv()
    except EOFError:
        raise SystemExit("the learning run failed (see above)") from None
    process.join(30)
    return result


def main() -> None:
    home = isolate_home()
    started = time.perf_counter()
    from train_gui import P99_GOAL_MS, gui_stalls
    from train_throughput import preset_speeds, throughput

    from desktop.core.train.corpus import stdlib_corpus

    text = stdlib_corpus()
    speed = throughput(text)
    presets = preset_speeds()
    child = learn_in_child()
    learning, tiny = child["learning"], child["tiny_run"]
    gui = gui_stalls(text, home)
    app_gui = gui["as_the_app_is"]
    goals = {
        **{f"ratio_{name}": met for name, met in speed.get("goals_met", {}).items()},
        "first_step_float32": "first_step" in speed
        and speed["first_step"]["float32"]["all_within_goal"],
        "tiny_run_under_a_minute": tiny["seconds"] <= TINY_GOAL_S,
        "beats_bigram_in_time": learning["beats_bigram"] is not None
        and learning["beats_bigram"]["elapsed_s"] <= LEARN_SECONDS,
        "gui_p99": all(app_gui[name]["p99_ms"] <= P99_GOAL_MS for name in ("tiny", "small")),
    }
    missed = [name for name, met in goals.items() if not met]
    print(f"goals missed: {', '.join(missed) or 'none'}; "
          f"{time.perf_counter() - started:.0f} s in all", flush=True)  # fmt: skip
    emit({
        "benchmark": "train",
        "throughput": speed,
        "preset_shapes": presets,
        "tiny_run": tiny,
        "learning": learning,
        "gui_stall": gui,
        "gui_p99_goal_ms": P99_GOAL_MS,
        "goals_met": all(goals.values()),  # without PyTorch (quick, in the tests): False
        "goals": goals,
        "moonshots_met": speed.get("moonshots_met", {}),
        "seconds": time.perf_counter() - started,
        "machine": machine(),
    })  # fmt: skip


if __name__ == "__main__":
    main()

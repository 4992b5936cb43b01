"""Reinforcement learning (the Reinforce tab, `deepdive-lab rl`): RL against more SFT,
and the numpy sampler against llama.cpp.

1. The AlphaGo comparison on count-letters: a start model made as the tab makes it
   (pretrained, then fine-tuned until held-out pass@1 reaches 40 %, evaluated every 50
   steps), then the same training time (`--minutes`, 5 by default; evaluations not
   counted) spent on RL (K = 8 answers to 4 questions a step, Adam 1e-4) and on more SFT
   (the start's own run, continued). Both held-out pass@1 curves against training
   seconds. Goal: RL lifts pass@1 by ≥ 15 points, and by more than more SFT does.
2. Sampling speed: the start model exported to GGUF (F32), 64 new tokens after a task
   prompt at temperature 1, by the numpy KV-cache sampler — one row, and a batch of 32
   rows (as RL's rollouts sample) — and by llama.cpp (llama-cpp-python, 2 threads,
   one sequence: what it does for a chat). Goal: numpy ÷ llama.cpp ≥ 0.3, judged on the
   batch (the RL loop's way); the one-row ratio is reported beside it.

Quick mode (`--quick`): a 32-wide start model fine-tuned 100 steps, 2 s of RL and of
SFT, 8 tokens sampled; it checks the code paths, not the figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, isolate_home, machine, quick_mode

QUICK = quick_mode()
LIFT_GOAL = 0.15
SPEED_GOAL = 0.3
BATCH_ROWS = 32


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--minutes", type=float, default=5.0, help="training time per arm")
    return parser.parse_args()


def make_start(home: Path) -> Any:
    from desktop.core.job_state import CancelToken
    from desktop.core.reinforce.start_model import StartModel, StartRecipe, make_start_model

    recipe = StartRecipe()
    if QUICK:
        recipe = StartRecipe(difficulty=1, dim=32, context=64, pretrain_steps=0, sft_steps=100,
                             target=0.0, eval_every=100, eval_problems=8, eval_samples=4,
                             max_new=24, sft_batch=16)  # fmt: skip
    started = time.perf_counter()
    for event in make_start_model(recipe, home / "start", CancelToken()):
        if isinstance(event, StartModel):
            print(f"start model: pass@1 {event.figures.get('pass_at_1', 0):.2f} after "
                  f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
            return event
    raise SystemExit("the start model was not made")


def rl_curve(start: Any, seconds: float) -> list[tuple[float, float]]:
    """(training seconds, held-out pass@1) from the start until `seconds` of RL."""
    from desktop.core.job_state import CancelToken
    from desktop.core.reinforce.rl_run import Baseline, RLSettings, rl_job, run_rl
    from desktop.core.train.trainer import StepMetrics

    settings = RLSettings(steps=10**9, eval_every=20 if not QUICK else 5,
                          eval_problems=start.recipe.eval_problems,
                          eval_samples=start.recipe.eval_samples)  # fmt: skip
    job = rl_job(start, settings, None)
    curve: list[tuple[float, float]] = []
    ending = False
    for event in run_rl(job, CancelToken()):
        if isinstance(event, Baseline):
            curve.append((0.0, event.figures["pass_at_1"]))
        elif isinstance(event, StepMetrics):
            if event.evaluated:
                curve.append((event.elapsed_s, event.figures["pass_at_1"]))
                print(f"  RL step {event.step}: {event.elapsed_s:.0f} s, pass@1 "
                      f"{curve[-1][1]:.2f}", flush=True)  # fmt: skip
            if not ending and event.elapsed_s >= seconds:  # one more step, then evaluated
                job.run.config = replace(job.run.config, steps=job.run.step + 1)
                ending = True
    return curve


def sft_curve(start: Any, seconds: float) -> list[tuple[float, float]]:
    from desktop.core.job_state import CancelToken
    from desktop.core.reinforce.rl_run import more_sft
    from desktop.core.train.trainer import StepMetrics

    curve = [(0.0, float(start.figures.get("pass_at_1", 0.0)))]
    for event in more_sft(start, seconds, CancelToken(), eval_every=50 if not QUICK else 10):
        if isinstance(event, StepMetrics) and event.evaluated:
            curve.append((event.figures["train_s"], event.figures["pass_at_1"]))
            print(f"  SFT step {event.step}: {curve[-1][0]:.0f} s, pass@1 {curve[-1][1]:.2f}",
                  flush=True)  # fmt: skip
    return curve


def sampling_speed(start: Any, home: Path) -> dict[str, Any]:
    import numpy as np

    from desktop.core.reinforce.chat_format import prompt_ids
    from desktop.core.reinforce.tasks import HELD_OUT, get_task
    from desktop.core.train.kv_decode import sample_batch
    from desktop.core.train.trainer import export_gguf

    new = 8 if QUICK else 64
    run = start.run()
    path = export_gguf(run, start.tokenizer, home / "start.gguf", name="deepdive-rl-bench")
    problem = get_task(start.recipe.task).problem(np.random.default_rng(0), 1, HELD_OUT)
    prompt = prompt_ids(start.tokenizer, problem.prompt)
    new = min(new, run.shape.context_length - len(prompt))

    def numpy_rate(rows: int) -> float:
        best = 0.0
        for round_ in range(3):
            began = time.perf_counter()
            drawn = sample_batch(run.params, run.shape, [prompt] * rows, max_new=new,
                                 rng=np.random.default_rng(round_))  # fmt: skip
            best = max(best, drawn.generated / (time.perf_counter() - began))
        return best

    from desktop.engine.llama_runtime import llama_module, llama_runtime

    runtime = llama_runtime()  # the app's CPU variant (no AMX), as the Chat tab loads it
    llama_cpp = llama_module()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=run.shape.context_length, n_threads=2,
                          n_threads_batch=2, verbose=False)  # fmt: skip
    llama_best = 0.0
    for round_ in range(3):
        llm.reset()
        llm.set_seed(round_)
        made, began = 0, time.perf_counter()
        for _token in llm.generate(prompt, temp=1.0, top_k=0, top_p=1.0, min_p=0.0):
            made += 1
            if made == new:
                break
        llama_best = max(llama_best, made / (time.perf_counter() - began))
    one, batch = numpy_rate(1), numpy_rate(BATCH_ROWS)
    figures = {
        "llama_cpp_variant": getattr(runtime, "variant", None),
        "new_tokens": new,
        "prompt_tokens": len(prompt),
        "llama_cpp_tokens_per_s": llama_best,
        "numpy_one_row_tokens_per_s": one,
        f"numpy_batch_{BATCH_ROWS}_tokens_per_s": batch,
        "ratio_one_row": one / llama_best,
        "ratio_batch": batch / llama_best,
    }
    print(f"sampling: llama.cpp {llama_best:.0f} tokens/s; numpy {one:.0f} (one row), "
          f"{batch:.0f} (batch of {BATCH_ROWS}) tokens/s", flush=True)  # fmt: skip
    return figures


def main() -> None:
    args = parse()
    home = isolate_home()
    started = time.perf_counter()
    seconds = 2.0 if QUICK else args.minutes * 60
    start = make_start(home)
    print(f"RL for {seconds:.0f} s of training…", flush=True)
    rl = rl_curve(start, seconds)
    print(f"more SFT for {seconds:.0f} s of training…", flush=True)
    sft = sft_curve(start, seconds)
    speed = sampling_speed(start, home)
    rl_lift, sft_lift = rl[-1][1] - rl[0][1], sft[-1][1] - sft[0][1]
    goals = {"rl_lift": rl_lift >= LIFT_GOAL, "rl_beats_sft": rl_lift > sft_lift,
             "sampling_speed": speed["ratio_batch"] >= SPEED_GOAL}  # fmt: skip
    print(f"pass@1: start {rl[0][1]:.2f}; RL {rl[-1][1]:.2f} ({rl_lift:+.2f}); more SFT "
          f"{sft[-1][1]:.2f} ({sft_lift:+.2f}); goals missed: "
          f"{', '.join(k for k, v in goals.items() if not v) or 'none'}", flush=True)  # fmt: skip
    emit({
        "benchmark": "rl",
        "start_pass_at_1": rl[0][1],
        "training_seconds_per_arm": seconds,
        "rl_curve": rl,
        "sft_curve": sft,
        "rl_lift": rl_lift,
        "sft_lift": sft_lift,
        "sampling": speed,
        "goals": goals,
        "goals_met": all(goals.values()),
        "seconds": time.perf_counter() - started,
        "machine": machine(),
    })  # fmt: skip


if __name__ == "__main__":
    main()

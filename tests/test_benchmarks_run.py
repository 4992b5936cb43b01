"""Every benchmark still runs: each one, in quick mode (`--quick`: a tiny model, a few
tokens, one round; bench/README.md), in its own process, must end with its figures line.

Benchmarks are not part of the test run's timing and their figures are not judged here
(quick figures say nothing about speed, and `goals_met` may well be false): what fails is
a benchmark that crashes, hangs or no longer reports what it promises, which otherwise
goes unnoticed until someone runs `make bench`. A few figures are correctness checks and
are asserted: the engine and plain llama.cpp make the same greedy tokens, and the quiz's
token probabilities equal llama-cpp-python's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
NOT_YET: dict[str, str] = {}  # script -> why it is not run here yet
# What each figures line must hold (beyond "benchmark", "quick" and "goals_met").
QUICK_BENCHMARKS: dict[str, tuple[str, ...]] = {
    "bench_cold_start.py": ("median_s", "heavy_modules_loaded", "contended", "foreign_load"),
    "bench_cpu_variants.py": ("chosen_variant", "results", "goal_met"),
    "bench_decode_under_training.py": (
        "quiet_tokens_per_s",
        "training_tokens_per_s",
        "ratio_auto",
        "ratio_same_threads",
        "trainer_share_of_cpus",
        "trainer_alive_throughout",
        "other_load",
        "contended",
        "goal_met",
    ),
    "bench_download.py": (
        "throughput_ratio",
        "ratio_goal_met",
        "gui_stall",
        "gui_p99_goal_met",
        "contended",
        "foreign_load",
    ),
    "bench_engine_overhead.py": ("ratio", "ttft_overhead_ms", "same_tokens", "contended", "runs"),
    "bench_gui_responsiveness.py": ("idle", "probabilities_off", "probabilities_on", "contended"),
    "bench_quiz.py": (
        "ratio",
        "ratio_goal_met",
        "ratio_vs_plain_logprobs",
        "ratio_vs_plain_without_probs",
        "max_prob_relative_difference",
        "max_prob_relative_difference_vs_logprobs",
        "plain_probs_same_token_ids",
        "baseline_same_work",
        "same_prompt_token_counts",
        "contended",
        "runs",
    ),
    "bench_reply_rendering.py": (
        "opened",
        "streaming",
        "worst_open_stall_ms",
        "typical_reply_formatted",
        "limit_reply_formatted",
    ),
    "bench_sandbox.py": (
        "warm_first_output_median_s",
        "warm_goal_met",
        "cold_compile_s",
        "cold_first_output_s",
        "speed",
        "contended",
        "foreign_load",
    ),
    "bench_server.py": ("ratio", "same_text", "llama_cpp_server", "contended", "runs"),
    "bench_token_view.py": ("median", "ratio_goal_met", "runs_used", "contended", "foreign_load"),
    "bench_tokens_typing.py": ("stall", "goal_met", "contended", "foreign_load"),
    "bench_train.py": ("throughput", "preset_shapes", "tiny_run", "learning", "gui_stall", "goals"),
    "bench_sft.py": ("throughput", "memory", "gui_stall", "goals"),
    "bench_rl.py": (
        "start_pass_at_1",
        "rl_curve",
        "sft_curve",
        "rl_lift",
        "sft_lift",
        "sampling",
        "goals",
    ),
}


def test_every_benchmark_has_a_quick_run_here() -> None:
    found = {p.name for p in BENCH.glob("bench_*.py")}
    assert found - NOT_YET.keys() == QUICK_BENCHMARKS.keys()


def run_quick(script: str) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("BENCH_QUICK", None)  # the flag alone must do it
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        cwd=BENCH.parent, env=env, capture_output=True, text=True, timeout=110,
    )  # fmt: skip
    output = f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, output
    lines = done.stdout.strip().splitlines()
    assert lines, output
    figures: dict[str, Any] = json.loads(lines[-1])  # the figures line is the last one
    return figures


@pytest.mark.parametrize("script", sorted(QUICK_BENCHMARKS))
def test_the_benchmark_runs_in_quick_mode(script: str) -> None:
    figures = run_quick(script)
    assert figures["benchmark"] == script.removeprefix("bench_").removesuffix(".py")
    assert figures["quick"] is True
    assert isinstance(figures["goals_met"], bool)
    missing = [key for key in QUICK_BENCHMARKS[script] if key not in figures]
    assert not missing, f"{script} no longer reports {missing}"
    if script == "bench_engine_overhead.py":
        assert figures["same_tokens"] is True  # greedy: every side makes the same tokens
        assert all(run["foreign_load"] >= 0 for run in figures["runs"])
    if script == "bench_quiz.py":
        assert figures["same_prompt_token_counts"] is True
        assert figures["probs_compared"] >= figures["asks_per_quiz"]  # every ask's tokens
        # the headline baseline (logits_all=False) makes the engine's very tokens, and the
        # engine's probabilities are llama.cpp's (float32 rounding apart), by both routes
        assert figures["plain_probs_same_token_ids"] is True
        assert figures["max_prob_relative_difference"] < 1e-4
        assert figures["max_prob_relative_difference_vs_logprobs"] < 1e-4
        assert figures["baseline_same_work"] is True
    if script == "bench_decode_under_training.py":  # the busy decodes ran while it trained
        assert figures["trainer_alive_throughout"] is True
        assert set(figures["other_load"]) == {"quiet", "training"}
    if script == "bench_server.py":  # greedy: the server says what llama.cpp says
        assert figures["same_text"] is True
    if script == "bench_cpu_variants.py":  # the chosen variant decoded both types
        assert set(figures["results"]) == {"Q8_0", "Q4_K_M"}
        for row in figures["results"].values():
            assert row["chosen"] and "max_foreign_load" in row
    if script == "bench_reply_rendering.py":  # which replies are formatted is not timing
        assert figures["typical_reply_formatted"] and figures["limit_reply_formatted"]
        opened = figures["opened"]
        assert opened["table_1000x20"]["mode"] != "markdown"
        assert opened["table_2000_columns"]["mode"] != "markdown"
    if script == "bench_train.py":  # every part ran, through the app's own training loop
        assert figures["tiny_run"]["steps"] == 10 and figures["learning"]["steps_done"] == 10
        assert set(figures["gui_stall"]) == {"as_the_app_is", "qt_fill_threads"}
        assert figures["throughput"]["micro_batch_sweep"]["chosen_vs_best"] > 0
    if script == "bench_sft.py":  # both methods, both plans, the tab's own training
        for method in figures["throughput"].get("methods", {}).values():
            assert float(method["first_step"]["grad_rel_diff_max"]) < 1e-4
        assert {"full_all_cores", "lora_all_cores", "full_leave_a_core", "lora_leave_a_core"} <= (
            figures["memory"].keys()
        )
        assert figures["gui_stall"]["steps"] > 0 and figures["gui_stall"]["ticks"] > 0
    if script == "bench_sandbox.py":  # every run printed, and its first byte was seen
        assert all(run["first_output_s"] > 0 for run in figures["runs"])
        assert figures["speed"]["sandbox_s"] > 0
    if script == "bench_gui_responsiveness.py":
        for mode in ("probabilities_off", "probabilities_on"):
            assert figures[mode]["tokens"] > 0 and "foreign_load" in figures[mode]

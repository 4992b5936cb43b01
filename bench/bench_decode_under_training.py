"""Decoding while the Train tab trains: does llama.cpp keep a useful speed on 2 shared cores?

llama.cpp's threads meet at a barrier after every layer: when another process takes a core,
every thread waits for the one that lost it, and with as many threads as cores decoding
collapses (1.1 tokens/s against 30 with one thread, measured on a contended 2-core machine).
The app therefore runs llama.cpp on the physical cores less one while it trains
(desktop/core/models/cpu.py). This benchmark decodes a SmolLM2-135M-shaped Q8_0 model through the
app's model host, on a quiet machine and while a training run takes a core, with 1 and with
all cores' threads.

The training runs as the Train tab runs it: the app's `run_training` with the tab's policy
(`ThreadPolicy.LEAVE_A_CORE`: one worker thread at nice 10, numpy's BLAS at one thread), the
"small" preset on the stdlib docs, in a child process (this file with `--trainer`). The busy
decodes start once it has made its first step (not while it still trains its tokenizer).

Three kinds of CPU use are told apart for every decode, from /proc:

* the benchmark's own (this process and its model host): the decoding;
* the trainer's: `trainer_share_of_cpus`, its CPU time ÷ (wall time × CPUs);
* other load: processes outside the benchmark, its model host and its trainer, plus
  hypervisor steal (`common.ForeignLoad`; the trainer is a child, so it is not counted).

A round decodes once with each thread count (the order rotates). Rounds with more than
FOREIGN_LOAD_LIMIT of other load are repeated, up to MAX_ROUNDS, to get ROUNDS clean ones,
quiet and while training alike; failing that the quietest are used and the figures say
`"contended"`. Medians of the rounds used.

Goal: decode tokens/s while training, with the app's automatic thread count while it trains,
÷ decode tokens/s on the quiet machine with the app's thread count there (all physical
cores) ≥ 0.4 (`ratio_auto`, `goal_met`). Also reported: each thread count against the same
quiet figure (`ratio`) and against its own quiet figure (`ratio_same_threads`).

Quick mode (`--quick`): a tiny model (common.tiny_gguf), 16 tokens, one round each, the
"tiny" preset trained on the README (its tokenizer in a second, not the stdlib's ~7 s of CPU).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    REPO_DIR,
    ForeignLoad,
    bench_gguf,
    clean_rounds,
    emit,
    isolate_home,
    machine,
    median,
    quick_mode,
    rounds_to_use,
)

QUICK = quick_mode()
TOKENS = 16 if QUICK else 96
ROUNDS = 1 if QUICK else 3  # clean rounds wanted, quiet and while training
MAX_ROUNDS = 1 if QUICK else 8
PRESET = "tiny" if QUICK else "small"
CORPUS = str(REPO_DIR / "README.md") if QUICK else "stdlib"  # stdlib: ~7 s of CPU first
FIRST_STEP_TIMEOUT_S = 90.0 if QUICK else 300.0  # tokenizer and data first
FOREIGN_LOAD_LIMIT = 0.05  # a decode is clean if other processes used ≤ 5 % of the CPUs
TRAINER_FLAG = "--trainer"
STEPPING = "stepping"
GOAL = 0.4


@dataclass
class Decode:
    tokens_per_s: float
    foreign_load: float  # outside the benchmark, its model host and its trainer
    trainer_share: float  # the trainer's CPU time ÷ (wall × CPUs); 0 with no trainer


def process_ticks(pid: int) -> int:
    """utime + stime of one process, all its threads, in clock ticks (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(rest[11]) + int(rest[12])


def decode(session: Any, threads: int, trainer: int | None) -> Decode:
    from desktop.core.chat.generation import GenerationRequest, SamplingSettings

    request = GenerationRequest(
        1, "The history of the printing press begins", SamplingSettings(
            max_tokens=TOKENS, temperature=0.0, seed=1), ignore_eos=True, threads=threads,
    )  # fmt: skip
    load = ForeignLoad()
    trainer_before = process_ticks(trainer) if trainer else 0
    start = time.monotonic()
    load.start()
    stats = session.generate(request, lambda _batch: None)
    foreign = load.stop()
    wall = time.monotonic() - start
    trainer_ticks = process_ticks(trainer) - trainer_before if trainer else 0
    capacity = wall * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
    share = max(0, trainer_ticks) / capacity if capacity > 0 else 0.0
    return Decode(float(stats.tokens_per_s), foreign, share)


def decode_rounds(session: Any, counts: Sequence[int], trainer: int | None) -> list[dict]:
    """Rounds of one decode per thread count, until ROUNDS are clean of other load."""
    rounds: list[dict[int, Decode]] = []
    while len(rounds) < MAX_ROUNDS and len(clean_rounds(rounds, FOREIGN_LOAD_LIMIT)) < ROUNDS:
        k = len(rounds) % len(counts)
        rounds.append({t: decode(session, t, trainer) for t in [*counts[k:], *counts[:k]]})
        phase = "training" if trainer else "quiet"
        print(f"  {phase:8s} " + ", ".join(
            f"{t} thread(s) {d.tokens_per_s:6.1f} tokens/s (other load {d.foreign_load:4.0%}"
            + (f", trainer {d.trainer_share:4.0%})" if trainer else ")")
            for t, d in sorted(rounds[-1].items())), flush=True)  # fmt: skip
    return rounds


def start_trainer(folder: Path) -> subprocess.Popen[str]:
    """The app's training loop in a child process, as the Train tab runs it; returns once
    it has made its first step."""
    trainer = subprocess.Popen(
        [sys.executable, __file__, TRAINER_FLAG, str(folder)],
        cwd=REPO_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert trainer.stdout is not None
    ready, _, _ = select.select([trainer.stdout], [], [], FIRST_STEP_TIMEOUT_S)
    line = trainer.stdout.readline().strip() if ready else ""
    if line != STEPPING:
        trainer.kill()
        trainer.wait(30)
        raise SystemExit(f"the trainer made no step within {FIRST_STEP_TIMEOUT_S:.0f} s")
    return trainer


def train_as_the_app(folder: Path) -> None:
    """Child process: `run_training` on a worker thread with the Train tab's policy, until
    killed. Says STEPPING once the first step is made."""
    import threading

    from desktop.core.job_state import CancelToken
    from desktop.core.train.compute import ThreadPolicy
    from desktop.core.train.config import fit_schedule, preset
    from desktop.core.train.run_training import TrainingJob, run_training
    from desktop.core.train.trainer import StepMetrics

    config = fit_schedule(preset(PRESET, steps=100_000))
    job = TrainingJob(config, CORPUS, folder, policy=ThreadPolicy.LEAVE_A_CORE)

    def work() -> None:
        said = False
        for event in run_training(job, CancelToken()):
            if isinstance(event, StepMetrics) and not said:
                print(STEPPING, flush=True)
                said = True

    worker = threading.Thread(target=work, name="training")  # as the tab: not the main one
    worker.start()
    worker.join()


def medians(rounds: Sequence[Mapping[int, Decode]]) -> dict[int, float]:
    counts = sorted({t for r in rounds for t in r})
    return {t: median([r[t].tokens_per_s for r in rounds]) for t in counts}


def main() -> int:
    isolate_home()
    from desktop.core.chat.generation import LoadSettings
    from desktop.core.models.cpu import auto_threads, physical_cores
    from desktop.engine.host_session import HostSession

    model = bench_gguf()
    cores = physical_cores()
    counts = sorted({1, cores})
    auto_quiet, auto = auto_threads(cores=cores), auto_threads(training=True, cores=cores)
    load_before = machine()
    session = HostSession()
    session.load(str(model), LoadSettings(context_size=512))
    try:
        decode(session, cores, None)  # warm up
        quiet_rounds = decode_rounds(session, counts, None)
        with tempfile.TemporaryDirectory() as scratch:
            trainer = start_trainer(Path(scratch))
            try:
                busy_rounds = decode_rounds(session, counts, trainer.pid)
                trainer_alive = trainer.poll() is None
            finally:
                trainer.kill()
                trainer.wait(30)
    finally:
        session.close()
    quiet_used, quiet_contended = rounds_to_use(quiet_rounds, ROUNDS, FOREIGN_LOAD_LIMIT)
    busy_used, busy_contended = rounds_to_use(busy_rounds, ROUNDS, FOREIGN_LOAD_LIMIT)
    quiet, busy = medians(quiet_used), medians(busy_used)
    base = quiet[auto_quiet]  # what the app gets on a quiet machine
    ratio = {t: busy[t] / base for t in counts} if base else {t: 0.0 for t in counts}
    ratio_auto = ratio[auto]
    trainer_share = median([d.trainer_share for r in busy_used for d in r.values()])
    for t in counts:
        print(f"{t} thread(s): quiet {quiet[t]:.1f} tokens/s, while training {busy[t]:.1f} "
              f"tokens/s (÷ quiet with {auto_quiet}: {ratio[t]:.2f})", flush=True)  # fmt: skip
    print(f"the trainer used {trainer_share:.0%} of the CPUs during the busy decodes; "
          f"decode while training with the app's {auto} thread(s) ÷ quiet: {ratio_auto:.2f} "
          f"(goal ≥ {GOAL}: {'met' if ratio_auto >= GOAL else 'MISSED'})")  # fmt: skip

    def other_load(rounds: Sequence[Mapping[int, Decode]]) -> list[float]:
        return [max(d.foreign_load for d in r.values()) for r in rounds]

    emit({
        "benchmark": "decode_under_training",
        "cores": cores,
        "preset": PRESET,
        "tokens": TOKENS,
        "auto_threads_quiet": auto_quiet,
        "auto_threads_while_training": auto,
        "quiet_tokens_per_s": quiet,
        "training_tokens_per_s": busy,
        "ratio": ratio,
        "ratio_same_threads": {t: busy[t] / quiet[t] if quiet[t] else 0.0 for t in counts},
        "ratio_auto": ratio_auto,
        "trainer_share_of_cpus": trainer_share,
        "trainer_share_of_cpus_by_threads": {
            t: median([r[t].trainer_share for r in busy_used]) for t in counts
        },
        "trainer_alive_throughout": trainer_alive,
        "other_load": {"quiet": other_load(quiet_rounds), "training": other_load(busy_rounds)},
        "foreign_load_limit": FOREIGN_LOAD_LIMIT,
        "rounds_run": {"quiet": len(quiet_rounds), "training": len(busy_rounds)},
        "rounds_used": {"quiet": len(quiet_used), "training": len(busy_used)},
        "contended": quiet_contended or busy_contended,
        "machine_at_start": load_before,
        "machine_at_end": machine(),
        "goal": GOAL,
        "goal_met": ratio_auto >= GOAL,
        "goals_met": ratio_auto >= GOAL,
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == TRAINER_FLAG:
        train_as_the_app(Path(sys.argv[2]))
        sys.exit(0)
    sys.exit(main())

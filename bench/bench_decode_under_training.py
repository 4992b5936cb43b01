"""Decoding while the Train tab trains: does llama.cpp keep a useful speed on 2 shared cores?

llama.cpp's threads meet at a barrier after every layer: when another process takes a core,
every thread waits for the one that lost it, and with as many threads as cores decoding
collapses (1.1 tokens/s against 30 with one thread, measured on a contended 2-core machine).
The app therefore runs llama.cpp on the physical cores less one while it trains
(desktop/core/cpu.py). This benchmark decodes a SmolLM2-135M-shaped Q8_0 model through the
app's model host, quiet and while a training run (the app's own trainer, one BLAS thread as
in the app) takes a core, with 1 and with 2 threads.

Goal: decode while training ÷ decode quiet ≥ 0.4 with the app's automatic thread count.

Quick mode (`--quick`): a tiny model (common.tiny_gguf), 16 tokens, one round, 2 s of
training before the busy decodes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO_DIR, ForeignLoad, bench_gguf, emit, isolate_home, median, quick_mode

QUICK = quick_mode()
TOKENS = 16 if QUICK else 96
ROUNDS = 1 if QUICK else 3
TRAINING_WARMUP_S = 2 if QUICK else 15  # past the corpus and tokenizer: the steps themselves
GOAL = 0.4


def decode(session: object, threads: int) -> float:
    from desktop.core.generation import GenerationRequest, SamplingSettings

    request = GenerationRequest(
        1, "The history of the printing press begins", SamplingSettings(
            max_tokens=TOKENS, temperature=0.0, seed=1), ignore_eos=True, threads=threads,
    )  # fmt: skip
    stats = session.generate(request, lambda _batch: None)  # type: ignore[attr-defined]
    return float(stats.tokens_per_s)


def start_training(folder: Path) -> subprocess.Popen[bytes]:
    """The app's trainer in another process, one BLAS thread as the Train tab runs it."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "desktop", "train", "--preset", "small", "--steps", "100000",
         "--out", str(folder)],
        cwd=REPO_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main() -> int:
    isolate_home()
    from desktop.core.cpu import auto_threads, physical_cores
    from desktop.core.generation import LoadSettings
    from desktop.engine.host_session import HostSession

    model = bench_gguf()
    cores = physical_cores()
    session = HostSession()
    session.load(str(model), LoadSettings(context_size=512))
    decode(session, cores)  # warm up
    quiet: dict[int, list[float]] = {1: [], cores: []}
    busy: dict[int, list[float]] = {1: [], cores: []}
    loads: list[float] = []
    for threads in quiet:
        for _ in range(ROUNDS):
            quiet[threads].append(decode(session, threads))
    with tempfile.TemporaryDirectory() as scratch:
        trainer = start_training(Path(scratch))
        try:
            time.sleep(TRAINING_WARMUP_S)
            for _ in range(ROUNDS):
                for threads in busy:
                    load = ForeignLoad()
                    load.start()
                    busy[threads].append(decode(session, threads))
                    loads.append(load.stop())
        finally:
            trainer.terminate()
            trainer.wait(30)
    session.close()
    auto = auto_threads(training=True, cores=cores)
    quiet_best = median(quiet[cores])  # what a quiet machine gives with all cores
    figures = {threads: median(v) for threads, v in busy.items()}
    for threads in quiet:
        print(f"{threads} thread(s): quiet {median(quiet[threads]):.1f} tokens/s, while "
              f"training {figures[threads]:.1f} tokens/s", flush=True)  # fmt: skip
    ratio_auto = figures[auto] / quiet_best if quiet_best else 0.0
    emit({
        "benchmark": "decode_under_training",
        "cores": cores,
        "auto_threads_while_training": auto,
        "quiet_tokens_per_s": {t: median(v) for t, v in quiet.items()},
        "training_tokens_per_s": figures,
        "ratio": {t: figures[t] / quiet_best for t in figures},
        "ratio_auto": ratio_auto,
        "training_share_of_cpus": median(loads),
        "goal": GOAL,
        "goal_met": ratio_auto >= GOAL,
        "goals_met": ratio_auto >= GOAL,
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

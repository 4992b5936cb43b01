"""Shared pieces of the benchmarks: the SmolLM2-135M-shaped model and the figures line.

The model is written by the app's own GGUF writer (random Q8_0 weights, a 49152-token
byte-level BPE vocabulary) and cached in `bench/.cache/`, so no benchmark downloads
anything. Each benchmark prints readable lines, then its figures as one JSON line, last.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
MODEL_NAME = "smollm2-135m-shape-random-q8_0.gguf"
MODEL_SEED = 135

if str(REPO_DIR) not in sys.path:  # `python bench/bench_x.py` puts only bench/ on the path
    sys.path.insert(0, str(REPO_DIR))


def isolate_home() -> Path:
    """Point DEEPDIVE_HOME at a fresh temp dir; call before importing any app module."""
    home = Path(tempfile.mkdtemp(prefix="deepdive-bench-home-"))
    os.environ["DEEPDIVE_HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return home


def smollm2_gguf() -> Path:
    """The cached SmolLM2-135M-shaped GGUF, written on first use (about half a minute)."""
    path = CACHE_DIR / MODEL_NAME
    if path.exists():
        return path
    from desktop.core.gguf_writer import (
        SMOLLM2_135M_SHAPE,
        byte_level_bpe_vocab,
        random_llama_weights,
        write_llama_gguf,
    )

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    print(f"writing {path.name} (first run only)…", flush=True)
    start = time.perf_counter()
    shape = SMOLLM2_135M_SHAPE
    write_llama_gguf(
        path,
        shape,
        random_llama_weights(shape, seed=MODEL_SEED),
        byte_level_bpe_vocab(shape.vocab_size),
        name="smollm2-135m-shape-random",
        file_type="Q8_0",
    )  # atomic: an interrupted run never leaves a half-written file at `path`
    size_mb = path.stat().st_size / 1e6
    print(f"  {size_mb:.0f} MB in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); no interpolation, so p100 is the max."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rounded(value: object, digits: int = 4) -> object:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


def emit(figures: dict[str, object]) -> None:
    """The figures as one JSON line: the last line a benchmark prints."""
    sys.stdout.flush()
    print(json.dumps(rounded(figures), sort_keys=True), flush=True)

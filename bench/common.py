"""Shared pieces of the benchmarks: the SmolLM2-135M-shaped model, quick mode, other load
on the machine, and the figures line.

The model is written by the app's own GGUF writer (random Q8_0 weights, a 49152-token
byte-level BPE vocabulary) and cached in `bench/.cache/`, so no benchmark downloads
anything. Each benchmark prints readable lines, then its figures as one JSON line, last:
always with `"quick"` and with `"goals_met"` (every goal of the benchmark met).

Quick mode (`--quick`, or `BENCH_QUICK=1` in the environment): the same code paths with
small sizes (a tiny model, a few tokens, one or two rounds), a few seconds per benchmark.
The test suite runs every benchmark this way (tests/test_benchmarks_run.py), so a
benchmark that no longer runs fails `make test`; its figures say nothing about speed.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
MODEL_STEM = "smollm2-135m-shape-random-q8_0"
MODEL_SEED = 135

if str(REPO_DIR) not in sys.path:  # `python bench/bench_x.py` puts only bench/ on the path
    sys.path.insert(0, str(REPO_DIR))


QUICK_FLAG = "--quick"
QUICK_VARIABLE = "BENCH_QUICK"


def quick_mode() -> bool:
    """Whether this run is a quick one (`--quick` or BENCH_QUICK=1). Also sets the variable,
    so the benchmark's child processes (the model host re-runs this module's top level
    under "spawn") see the same mode."""
    quick = QUICK_FLAG in sys.argv[1:] or os.environ.get(QUICK_VARIABLE) == "1"
    if quick:
        os.environ[QUICK_VARIABLE] = "1"
    return quick


def isolate_home() -> Path:
    """Point DEEPDIVE_HOME at a fresh temp dir (removed at exit); call before importing
    any app module.

    Benchmarks call this from `main()`, not at import time: the model host is started with
    multiprocessing "spawn", which runs the benchmark file's top level again in the child.
    """
    home = Path(tempfile.mkdtemp(prefix="deepdive-bench-home-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["DEEPDIVE_HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return home


def smollm2_gguf() -> Path:
    """The cached SmolLM2-135M-shaped GGUF, written on first use (a few seconds).

    The file name carries a hash of the writer's and the vocabulary's source, so a change
    to either (or to the shape or seed) writes a new file instead of benchmarking a stale
    one.
    """
    from desktop.core.models import bpe_vocab, gguf_writer

    shape = gguf_writer.SMOLLM2_135M_SHAPE
    sources = b"".join(Path(str(m.__file__)).read_bytes() for m in (gguf_writer, bpe_vocab))
    key = hashlib.sha256(sources + repr((shape, MODEL_SEED)).encode()).hexdigest()[:10]
    path = CACHE_DIR / f"{MODEL_STEM}-{key}.gguf"
    if path.exists():
        return path
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    for stale in CACHE_DIR.glob(f"{MODEL_STEM}-*.gguf"):
        stale.unlink()
    print(f"writing {path.name} (first run only)…", flush=True)
    start = time.perf_counter()
    gguf_writer.write_llama_gguf(
        path,
        shape,
        gguf_writer.random_llama_weights(shape, seed=MODEL_SEED),
        bpe_vocab.byte_level_bpe_vocab(shape.vocab_size),
        name="smollm2-135m-shape-random",
        file_type="Q8_0",
    )  # atomic: an interrupted run never leaves a half-written file at `path`
    size_mb = path.stat().st_size / 1e6
    print(f"  {size_mb:.0f} MB in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def tiny_shape() -> Any:
    """Quick mode's model shape: a 2-layer, 64-wide llama with a 4096-token vocabulary (a
    49152-wide output layer would dominate the quiz's all-logits baseline)."""
    from desktop.core.models.gguf_writer import LlamaShape

    return LlamaShape(
        vocab_size=4096, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=128,
        context_length=8192, rope_theta=100000.0, tie_embeddings=True,
    )  # fmt: skip


def tiny_gguf(file_type: str = "Q8_0") -> Path:
    """Quick mode's model: `tiny_shape()` with random weights and a byte-level BPE
    vocabulary, written in well under a second into this run's DEEPDIVE_HOME (call
    isolate_home() first), never cached."""
    from desktop.core.models import bpe_vocab, gguf_writer

    shape = tiny_shape()
    path = Path(os.environ["DEEPDIVE_HOME"]) / f"tiny-random-{file_type.lower()}.gguf"
    if not path.exists():
        gguf_writer.write_llama_gguf(
            path,
            shape,
            gguf_writer.random_llama_weights(shape, seed=MODEL_SEED),
            bpe_vocab.byte_level_bpe_vocab(shape.vocab_size),
            name="tiny-random",
            file_type=file_type,  # type: ignore[arg-type]
        )
    return path


def bench_gguf() -> Path:
    """The model the engine benchmarks load: the 135M shape, or in quick mode a tiny one."""
    return tiny_gguf() if quick_mode() else smollm2_gguf()


def pyside_emit_leaks_true() -> bool:
    """True if `SignalInstance.emit()` drops a reference to `True` (PySide6 6.12.0).

    emit() returns `True` without taking a reference, so on Python < 3.12 (where `True` is
    not immortal) every emit anywhere in the process lowers its refcount by one; after a few
    thousand streamed tokens the interpreter aborts with "bool_dealloc: deallocating True
    or False". Call after a Q(Core)Application exists.
    """
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        ping = Signal()

    probe = Probe()
    before = sys.getrefcount(True)
    for _ in range(10):
        probe.ping.emit()
    return sys.getrefcount(True) < before


_KEEP_ALIVE: list[object] = []


def survive_emit_leak(references: int = 1_000_000) -> bool:
    """Benchmarks only: if emit() leaks `True`, give `True` enough extra references to
    outlive this run, so the benchmark measures speed instead of crashing. Returns whether
    the leak was found (the figures report it; the app itself still has the bug).

    The references are held by a tuple that is itself made immortal, so they are never
    released, not even at interpreter shutdown.
    """
    if not pyside_emit_leaks_true():
        return False
    import ctypes

    keep = tuple([True] * references)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(keep))  # never freed
    _KEEP_ALIVE.append(keep)
    gc.collect()  # untracks the tuple (it holds no containers): it adds nothing to GC pauses
    print(
        "WARNING: this PySide6 leaks a reference to True on every Signal.emit(); the app "
        "aborts (bool_dealloc) after a few thousand streamed tokens on Python < 3.12. "
        "The benchmark works around it; the app does not.",
        flush=True,
    )
    return True


def _busy_ticks_system() -> int:
    """All CPUs' time in processes (including time stolen by the hypervisor), in clock
    ticks. Interrupt time is left out: it is mostly the kernel moving this benchmark's own
    bytes (a download over loopback), not another program."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + steal


def _own_ticks() -> int:
    """CPU time of this process and all its descendants (the model host among them),
    living or ended, and of the kernel's threads: their work (writing back a download,
    say) is the benchmark's own far more often than a neighbour's. The /proc reading is
    the app's own (its OtherLoad makes the same count before each request)."""
    from desktop.core.models.cpu import process_table, process_tree

    table = process_table()
    living = sum(table[pid].ticks for pid in process_tree(table, os.getpid()))
    reaped = os.times()  # children that already ended and were waited for
    reaped_ticks = (reaped.children_user + reaped.children_system) * os.sysconf("SC_CLK_TCK")
    kernel = sum(p.ticks for p in table.values() if p.kernel_thread)
    return living + round(reaped_ticks) + kernel


class ForeignLoad:
    """How much of the machine other processes used during a measurement.

    On a shared 2-core machine another job (a test run, a build) can take a core away for
    seconds; such runs measure the neighbour, not the app. `share` is the CPU time used
    by other programs - outside this process tree, not the kernel's threads or interrupts
    (a download's write-back and loopback traffic are the benchmark's own) - plus
    hypervisor steal, divided by wall time × cores.
    Reading /proc has ~10 ms resolution; call start()/stop() outside the timed region.
    """

    def __init__(self) -> None:
        self._t0 = 0.0
        self._system0 = 0
        self._own0 = 0
        self.share = 0.0

    def start(self) -> None:
        self._system0, self._own0 = _busy_ticks_system(), _own_ticks()
        self._t0 = time.monotonic()

    def stop(self) -> float:
        wall = time.monotonic() - self._t0
        system, own = _busy_ticks_system(), _own_ticks()
        foreign = max(0, (system - self._system0) - (own - self._own0))
        capacity = wall * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
        self.share = foreign / capacity if capacity > 0 else 0.0
        return self.share


def machine() -> dict[str, object]:
    """Context for the figures: other load on the machine makes every figure worse."""
    from desktop.core.models.cpu import cpu_model_name

    load1, _load5, _load15 = os.getloadavg()
    return {"cpu": cpu_model_name(), "cpu_count": os.cpu_count(), "loadavg_1m": load1,
            "python": sys.version.split()[0]}  # fmt: skip


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); no interpolation, so p100 is the max."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def clean_rounds(rounds: Sequence[Mapping[str, Any]], limit: float) -> list[Mapping[str, Any]]:
    """Rounds (one run per side, each with a `foreign_load`) no side of which had other
    processes using more than `limit` of the CPUs."""
    return [r for r in rounds if max(run.foreign_load for run in r.values()) <= limit]


def rounds_to_use(
    rounds: Sequence[Mapping[str, Any]], wanted: int, limit: float
) -> tuple[list[Mapping[str, Any]], bool]:
    """The clean rounds, or if there are fewer than `wanted`, the `wanted` quietest (and
    True: the figures are contended). Says which on stdout."""
    used = clean_rounds(rounds, limit)
    if len(used) >= wanted:
        print(f"{len(used)} of {len(rounds)} rounds ran without other load; figures use those.")
        return used, False
    quietest = sorted(rounds, key=lambda r: max(run.foreign_load for run in r.values()))
    print(
        f"WARNING: only {len(used)} of {len(rounds)} rounds ran without other load on the "
        f"machine; the figures below use the {min(wanted, len(rounds))} quietest and are less "
        "reliable."
    )
    return quietest[:wanted], True


def runs_to_use(
    runs: Sequence[Mapping[str, Any]], wanted: int, limit: float
) -> tuple[list[Mapping[str, Any]], bool]:
    """`rounds_to_use` for single runs (dicts with a `foreign_load`): those without other
    load, or if there are fewer than `wanted`, the `wanted` quietest (and True)."""
    used = [r for r in runs if r["foreign_load"] <= limit]
    if len(used) >= wanted:
        print(f"{len(used)} of {len(runs)} runs ran without other load; figures use those.")
        return used, False
    quietest = sorted(runs, key=lambda r: float(r["foreign_load"]))[:wanted]
    print(
        f"WARNING: only {len(used)} of {len(runs)} runs ran without other load on the "
        f"machine; the figures below use the {len(quietest)} quietest and are less reliable."
    )
    return quietest, True


def rounded(value: object, digits: int = 4) -> object:
    """Floats to `digits` decimals, but small ones (a probability difference of 4e-7) to
    three significant digits: rounding them to 0.0 would hide what a check measured."""
    if isinstance(value, float):
        if value != 0 and math.isfinite(value) and abs(value) < 10**-digits:
            return float(f"{value:.3g}")
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


def emit(figures: dict[str, object]) -> None:
    """The figures as one JSON line: the last line a benchmark prints. Says whether the
    run was a quick one (its figures then only show that the benchmark still runs)."""
    sys.stdout.flush()
    figures = {**figures, "quick": quick_mode()}
    print(json.dumps(rounded(figures), sort_keys=True), flush=True)

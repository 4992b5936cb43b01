"""How a training run uses the machine: micro-batch size, threads, memory, priority.

Two policies:

* `LEAVE_A_CORE` (the app): one thread computes, with numpy's BLAS at one thread, at a
  lower OS priority — the window keeps a core and wins every contest for the other. With
  BLAS threads on both cores of a 2-core laptop the window stalled ~50 ms (p99); Qt
  paints big fills on helper threads that must also get a core at once.
* `ALL_CORES` (the command line, benchmarks): one micro-batch per core at once, each
  thread with single-threaded BLAS. A d=128 model's matrices are too small for BLAS to
  split well across cores (and numpy's element-wise loops never do): whole micro-batches
  in parallel ran ~1.35x faster here than the batch with BLAS on both cores. "All" means
  the physical cores this process may use, and no more than OPENBLAS_NUM_THREADS or
  OMP_NUM_THREADS says when set (the usual way to tell a numpy program to keep to one).

Micro-batches are sized so one layer's arrays for them fit in this core's cache: its L2
and its share of the L3 (`cpu_cache`), never below a few hundred tokens (smaller matrix
products and more Python calls cost more than the cache saves). On the 2-core EPYC this
was written on (1 MB L2, 16 MB of L3 per core) whole batches fit and ran fastest at one
thread: micro-batches of one row cost 10-30 %. The split changes nothing but float32
rounding (`step.py`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from desktop.core.models.cpu import physical_cores, usable_cpus
from desktop.core.train.blas import blas_threads, set_blas_threads
from desktop.core.train.config import TrainConfig
from desktop.core.train.cpu_cache import CacheSizes, read_cache_sizes
from desktop.core.train.layers import ATTENTION_BLOCK
from desktop.core.train.model import keep_freed_memory

MIN_MICRO_TOKENS = 256
BACKGROUND_NICE = 10  # the app's training thread: the window first, then training


class ThreadPolicy(Enum):
    LEAVE_A_CORE = "leave a core to the window"
    ALL_CORES = "all cores"


@dataclass(frozen=True)
class Compute:
    micro_rows: int  # batch rows computed together
    workers: int = 1  # micro-batches computed at the same time, each on its own thread
    blas_threads: int = 1  # numpy's BLAS threads while training
    background: bool = False  # lower the computing thread's priority below the window's


def layer_bytes_per_token(config: TrainConfig) -> int:
    """float32 bytes one token occupies in the largest layer's working arrays: the
    feed-forward's input and five hidden-width arrays, and a row of attention scores
    per head over at most one block of keys."""
    keys = min(config.context, ATTENTION_BLOCK)
    return 4 * (config.dim + 5 * config.ffn_dim + config.n_heads * keys)


def core_cache_bytes(cache: CacheSizes) -> int:
    """One core's cache: its L2 and an equal share of the L3 the cores share."""
    return cache.l2_bytes + (cache.l3_bytes // cache.l3_shared_by if cache.l3_bytes else 0)


def micro_batch_rows(config: TrainConfig, cache: CacheSizes, parts_at_least: int = 1) -> int:
    """Rows per micro-batch: the most that fit the cache budget and divide the batch
    evenly (equal parts keep the workers equally busy), at least one; and few enough to
    give `parts_at_least` micro-batches (one per worker)."""
    fits = core_cache_bytes(cache) // layer_bytes_per_token(config)
    budget = max(MIN_MICRO_TOKENS, fits)
    most = min(budget // config.context, config.batch_size // max(1, parts_at_least))
    fitting = [rows for rows in range(1, config.batch_size + 1)
               if config.batch_size % rows == 0 and rows <= most]  # fmt: skip
    return max(fitting, default=1)


def available_cores() -> int:
    """Physical cores this process may run on, capped by OPENBLAS_NUM_THREADS or
    OMP_NUM_THREADS when one is set to a number."""
    cores = physical_cores()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            cores = min(cores, int(value))
    return cores


def plan_compute(
    config: TrainConfig,
    policy: ThreadPolicy,
    *,
    cores: int | None = None,
    cache: CacheSizes | None = None,
) -> Compute:
    cache = cache or read_cache_sizes()
    if policy is ThreadPolicy.LEAVE_A_CORE:
        return Compute(micro_batch_rows(config, cache), background=(cores or usable_cpus()) > 1)
    cores = cores or available_cores()
    workers = max(1, min(cores, config.batch_size))
    # Two parts per worker where the batch allows: a worker whose core another process
    # takes away then finishes one part while the others share the rest.
    rows = micro_batch_rows(config, cache, parts_at_least=min(2 * workers, config.batch_size))
    parts = -(-config.batch_size // rows)
    workers = min(workers, parts)
    # One part only (batch 1): BLAS gets the cores instead.
    return Compute(rows, workers, blas_threads=cores if workers == 1 else 1)


@contextmanager
def applied(compute: Compute) -> Iterator[None]:
    """For the length of a run: BLAS threads as planned (restored afterwards), freed
    memory kept for the next step, and the calling thread's priority lowered if asked.
    A lowered priority cannot be raised back without privileges, so only a worker
    thread's is lowered (it ends with the run); the main thread's never is."""
    keep_freed_memory()
    before = blas_threads()
    set_blas_threads(compute.blas_threads)
    if compute.background and threading.current_thread() is not threading.main_thread():
        lower_this_threads_priority()
    try:
        yield
    finally:
        set_blas_threads(before if before is not None else (os.cpu_count() or 1))


def lower_this_threads_priority(nice: int = BACKGROUND_NICE) -> bool:
    """Linux: the calling thread's nice value (threads have their own). Elsewhere
    nothing changes; returns whether it did."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:
        return False
    return True

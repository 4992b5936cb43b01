"""How a run uses the machine: the cache sizes Linux reports, micro-batches that fit one
core's share of them and divide the batch, and the two thread policies."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from desktop.core.train.compute import (
    MIN_MICRO_TOKENS,
    Compute,
    ThreadPolicy,
    core_cache_bytes,
    layer_bytes_per_token,
    lower_this_threads_priority,
    micro_batch_rows,
    plan_compute,
)
from desktop.core.train.config import PRESETS, preset
from desktop.core.train.cpu_cache import DEFAULT_L2_BYTES, CacheSizes, parse_size, read_cache_sizes


def fake_sysfs(root: Path, caches: list[tuple[str, str, str, str]]) -> Path:
    for i, (level, kind, size, shared) in enumerate(caches):
        index = root / f"index{i}"
        index.mkdir(parents=True)
        for name, value in (("level", level), ("type", kind), ("size", size),
                            ("shared_cpu_list", shared)):  # fmt: skip
            (index / name).write_text(value + "\n")
    return root


def test_cache_sizes_as_linux_reports_them(tmp_path: Path) -> None:
    epyc = [("1", "Data", "48K", "0"), ("1", "Instruction", "32K", "0"),
            ("2", "Unified", "1024K", "0"), ("3", "Unified", "32768K", "0-1")]  # fmt: skip
    root = fake_sysfs(tmp_path / "epyc", epyc)
    assert read_cache_sizes(root) == CacheSizes(1 << 20, 32 << 20, 2)
    xeon = fake_sysfs(tmp_path / "xeon", [("2", "Unified", "2M", "0"),
                                          ("3", "Unified", "105M", "0-3,8-11")])  # fmt: skip
    assert read_cache_sizes(xeon) == CacheSizes(2 << 20, 105 << 20, 8)
    unknown = read_cache_sizes(tmp_path / "nothing")
    assert unknown.l2_bytes == DEFAULT_L2_BYTES and not unknown.measured
    assert (parse_size("512K"), parse_size("3M"), parse_size("4096"), parse_size("x")) == (
        512 << 10, 3 << 20, 4096, None)  # fmt: skip


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("l2_mb", [0.25, 1, 2])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_micro_batches_fit_the_cache_and_divide_the_batch(name: str, l2_mb: float,
                                                          workers: int) -> None:  # fmt: skip
    config = preset(name, batch_size=12)
    cache = CacheSizes(int(l2_mb * (1 << 20)), None)
    rows = micro_batch_rows(config, cache, parts_at_least=workers)
    assert config.batch_size % rows == 0 and config.batch_size // rows >= workers
    tokens = rows * config.context
    fits = max(MIN_MICRO_TOKENS, core_cache_bytes(cache) // layer_bytes_per_token(config))
    assert rows == 1 or tokens <= fits
    bigger = next((r for r in range(rows + 1, 13) if 12 % r == 0), None)
    assert bigger is None or bigger * config.context > fits or 12 // bigger < workers


def test_a_bigger_cache_takes_bigger_micro_batches() -> None:
    config = preset("tiny", context=64, batch_size=16)
    small = micro_batch_rows(config, CacheSizes(256 << 10, None))
    big = micro_batch_rows(config, CacheSizes(1 << 20, 32 << 20, 2))
    assert small < big == 16


def test_the_two_policies() -> None:
    cache = CacheSizes(1 << 20, 32 << 20, 2)
    config = preset("small")
    app = plan_compute(config, ThreadPolicy.LEAVE_A_CORE, cores=2, cache=cache)
    assert (app.workers, app.blas_threads, app.background) == (1, 1, True)
    everything = plan_compute(config, ThreadPolicy.ALL_CORES, cores=2, cache=cache)
    assert (everything.workers, everything.blas_threads, everything.background) == (2, 1, False)
    assert config.batch_size // everything.micro_rows >= 2
    single_row = plan_compute(preset("small", batch_size=1), ThreadPolicy.ALL_CORES, cores=4,
                              cache=cache)  # fmt: skip
    assert single_row == Compute(1, 1, blas_threads=4)  # nothing to split: BLAS gets the cores
    one_core = plan_compute(config, ThreadPolicy.LEAVE_A_CORE, cores=1, cache=cache)
    assert not one_core.background  # nothing to leave the window


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_lowering_a_threads_priority_leaves_the_others() -> None:
    seen: list[int] = []

    def worker() -> None:
        assert lower_this_threads_priority(nice=7)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [max(7, main)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main


def test_all_cores_keeps_to_the_thread_limit_a_user_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENBLAS_NUM_THREADS=1 (the starter model's build sets it, so its bytes do not
    depend on the core count) means one thread for the whole run."""
    from desktop.core.train.compute import available_cores

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert available_cores() == 1
    plan = plan_compute(preset("small"), ThreadPolicy.ALL_CORES)
    assert (plan.workers, plan.blas_threads) == (1, 1)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "not a number")
    assert available_cores() >= 1

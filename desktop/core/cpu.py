"""How many threads llama.cpp should use here.

llama.cpp's threads meet at a barrier after every layer, so one thread that loses its core
to another process stalls all of them: with as many threads as CPUs on a busy 2-core
machine, decoding fell from 30 to 1.1 tokens/s. Hyper-threads share a core's arithmetic
units and add little. So: physical cores that this process may run on, and one fewer
while the app itself trains a model (which keeps one core busy).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def usable_cpus() -> int:
    """Logical CPUs this process may run on (its affinity, not the whole machine)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def physical_cores(sysfs: Path = Path("/sys/devices/system/cpu")) -> int:
    """Physical cores among the usable CPUs (hyper-thread siblings counted once)."""
    usable = usable_cpus()
    if sys.platform.startswith("linux"):
        cores = _linux_cores(sysfs)
        if cores:
            return max(1, min(usable, cores))
    elif sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "hw.physicalcpu"], capture_output=True,
                                 text=True, timeout=2, check=True).stdout  # fmt: skip
            return max(1, min(usable, int(out.strip())))
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
    return usable


def _linux_cores(sysfs: Path) -> int:
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    siblings: set[str] = set()
    for cpu in sysfs.glob("cpu[0-9]*"):
        if allowed is not None and int(cpu.name[3:]) not in allowed:
            continue
        path = cpu / "topology" / "thread_siblings_list"
        try:
            siblings.add(path.read_text().strip())
        except OSError:
            return 0
    return len(siblings)


def auto_threads(*, training: bool = False, cores: int | None = None) -> int:
    """Threads for llama.cpp: the physical cores, less one while a training run has one."""
    cores = physical_cores() if cores is None else cores
    return max(1, cores - 1) if training else cores

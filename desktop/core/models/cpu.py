"""How many threads llama.cpp should use here.

llama.cpp's threads meet at a barrier after every layer, so one thread that loses its core
to another process stalls all of them: with as many threads as CPUs on a busy 2-core
machine, decoding fell from 30 to 1.1 tokens/s. Hyper-threads share a core's arithmetic
units and add little. So: the physical cores this process may run on; one fewer while the
app itself trains a model (which keeps one core busy), and one fewer while other programs
keep a core busy - measured before each request, so a quiet machine still gets them all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
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


class OtherLoad:
    """How many cores other programs kept busy since the last reading - so llama.cpp can
    leave them one instead of collapsing. Linux reads /proc (a few ms, off the GUI
    thread); elsewhere it says 0 and the thread count stays as chosen."""

    def __init__(self, root_pid: int | None = None, proc: Path = Path("/proc")) -> None:
        self._proc = proc
        self._root = root_pid or os.getpid()
        self._last = self._snapshot()

    def cores(self) -> float:
        """Cores used by processes outside this app (its process tree) since the last
        call (or since it was made)."""
        now = self._snapshot()
        last, self._last = self._last, now
        if now is None or last is None:
            return 0.0
        wall = now[0] - last[0]
        if wall <= 0:
            return 0.0
        busy = (now[1] - last[1]) - (now[2] - last[2])
        return max(0.0, busy / _ticks_per_second() / wall)

    def _snapshot(self) -> tuple[float, int, int] | None:
        """(wall seconds, all busy ticks of the machine, this app's ticks)."""
        try:
            fields = (self._proc / "stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:
            return None
        import time

        values = [int(v) for v in fields]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return time.monotonic(), sum(values[:8]) - idle, self._own_ticks()

    def _own_ticks(self) -> int:
        table = process_table(self._proc)
        return sum(table[pid].ticks for pid in process_tree(table, self._root))


PF_KTHREAD = 0x00200000  # /proc/<pid>/stat flags: a kernel thread


@dataclass(frozen=True)
class ProcessTicks:
    parent: int
    ticks: int  # CPU time so far, user + system, in clock ticks
    kernel_thread: bool


def process_table(proc: Path = Path("/proc")) -> dict[int, ProcessTicks]:
    """Every process's parent and CPU time, from /proc (Linux; empty elsewhere)."""
    table: dict[int, ProcessTicks] = {}
    try:
        entries = list(proc.iterdir())
    except OSError:
        return table
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()  # after "pid (name) ": state, ppid, …
        table[int(entry.name)] = ProcessTicks(int(rest[1]), int(rest[11]) + int(rest[12]),
                                              bool(int(rest[6]) & PF_KTHREAD))  # fmt: skip
    return table


def process_tree(table: dict[int, ProcessTicks], root: int) -> set[int]:
    """`root` and its descendants that are still running."""
    mine, grew = {root}, True
    while grew:
        grew = False
        for pid, process in table.items():
            if process.parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    return mine & table.keys()


def _ticks_per_second() -> int:
    return int(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100


def threads_for_request(
    loaded: int, *, training: bool, other_cores: float, busy_at: float = 0.5
) -> int:
    """llama.cpp's threads for the next request: those the model was loaded with, one fewer
    while the app trains, one fewer while other programs keep a core half busy."""
    threads = loaded - (1 if training else 0) - (1 if other_cores >= busy_at else 0)
    return max(1, threads)


def cpu_model_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor's name as the system gives it ("AMD EPYC 9B14"), with the instruction
    sets that decide llama.cpp's speed (AVX-512, AMX): a figure means little without it."""
    import platform

    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine() or "unknown"
    fields = dict(
        (key.strip(), value.strip())
        for line in text.splitlines()
        if ":" in line
        for key, value in [line.split(":", 1)]
    )
    name = fields.get("model name") or platform.processor() or platform.machine() or "unknown"
    flags = set(fields.get("flags", "").split())
    if not flags:  # not x86, or not Linux: no flags to tell
        return name
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{name} ({vector}, {'AMX' if 'amx_int8' in flags else 'no AMX'})"

"""How many threads llama.cpp gets: physical cores, fewer when the app trains or other
programs keep cores busy (llama.cpp's threads collapse when one loses its core)."""

from __future__ import annotations

from pathlib import Path

from desktop.core.models.cpu import OtherLoad, physical_cores, threads_for_request


def test_threads_for_a_request() -> None:
    assert threads_for_request(2, training=False, other_cores=0.1) == 2  # quiet: all
    assert threads_for_request(2, training=True, other_cores=0.0) == 1  # the Train tab
    assert threads_for_request(2, training=False, other_cores=0.9) == 1  # another program
    assert threads_for_request(2, training=True, other_cores=1.8) == 1  # never below one
    assert threads_for_request(8, training=True, other_cores=2.0) == 6


def write_proc(root: Path, busy: int, processes: dict[int, tuple[int, int]]) -> None:
    """A /proc with the machine's busy ticks and processes: pid -> (parent, ticks)."""
    root.mkdir(exist_ok=True)
    # cpu user nice system idle iowait irq softirq steal
    (root / "stat").write_text(f"cpu  {busy} 0 0 1000 0 0 0 0 0 0\ncpu0 0\n")
    for pid, (parent, ticks) in processes.items():
        folder = root / str(pid)
        folder.mkdir(exist_ok=True)
        fields = ["S", str(parent)] + ["0"] * 9 + [str(ticks), "0"] + ["0"] * 20
        (folder / "stat").write_text(f"{pid} (name with ) paren) {' '.join(fields)}\n")


def test_other_load_counts_only_what_is_outside_the_apps_process_tree(tmp_path: Path) -> None:
    import time

    proc = tmp_path / "proc"
    # the app (100), its model host (101, a child) and another program (200)
    write_proc(proc, 1000, {100: (1, 50), 101: (100, 50), 200: (1, 900)})
    load = OtherLoad(root_pid=100, proc=proc)
    time.sleep(0.05)
    # 600 more busy ticks on the machine, 200 of them the app's own (host included)
    write_proc(proc, 1600, {100: (1, 100), 101: (100, 200), 200: (1, 1300)})
    cores = load.cores()
    assert cores > 0  # the other program's 400 ticks over the time since the first reading
    write_proc(proc, 1600, {100: (1, 100), 101: (100, 200), 200: (1, 1300)})
    assert load.cores() == 0.0  # nothing happened since: nothing to leave room for


def test_physical_cores_count_siblings_once(tmp_path: Path) -> None:
    import os

    sysfs = tmp_path / "cpu"
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0, 1]
    for n in allowed:
        topology = sysfs / f"cpu{n}" / "topology"
        topology.mkdir(parents=True)
        # hyper-threads: cpus 2k and 2k+1 share a core
        pair = f"{n - n % 2}-{n - n % 2 + 1}"
        (topology / "thread_siblings_list").write_text(pair)
    expected = len({n - n % 2 for n in allowed})
    assert physical_cores(sysfs) == expected


def test_the_process_table_knows_kernel_threads_and_walks_a_tree(tmp_path: Path) -> None:
    """What OtherLoad and the benchmarks' other-load figure both read."""
    from desktop.core.models.cpu import PF_KTHREAD, process_table, process_tree

    proc = tmp_path / "proc"
    write_proc(proc, 0, {100: (1, 5), 101: (100, 7), 102: (101, 11), 200: (1, 3), 2: (0, 9)})
    stat = proc / "2" / "stat"  # kthreadd: its flags field marks a kernel thread
    fields = stat.read_text().rsplit(") ", 1)[1].split()
    fields[6] = str(PF_KTHREAD)
    stat.write_text(f"2 (kthreadd) {' '.join(fields)}\n")
    table = process_table(proc)
    assert table[2].kernel_thread and not table[100].kernel_thread
    assert table[101].parent == 100 and table[102].ticks == 11
    assert process_tree(table, 100) == {100, 101, 102}
    assert process_table(tmp_path / "no-proc") == {}

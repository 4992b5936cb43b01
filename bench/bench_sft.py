"""Fine-tuning (the Post-train tab, `deepdive-lab sft`): speed against PyTorch, memory, and
the window meanwhile.

1. Throughput (`sft_throughput.py`): tokens/s of a SmolLM2-135M-shaped model (random
   weights, batch 8 × 256, the loss masked to the assistant's two thirds), numpy ÷ its
   PyTorch twin on the same weights and batches, full fine-tuning and LoRA (rank 8, q/k/v/o),
   all cores each; the first step's loss and gradients compared.
2. Peak memory, full against LoRA (`sft_memory.py`), each in a child process, with the
   command line's plan and the app's; goal LoRA ≤ 1.5 GB.
3. GUI stall (`sft_gui.py`): a real Post-train tab fine-tunes that model with LoRA.

Quick mode (`--quick`): the tiny shape, context 32, batch 4, one round; 2 s of GUI.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_gguf, emit, isolate_home, machine, quick_mode

QUICK = quick_mode()


def main() -> None:
    home = isolate_home()
    started = time.perf_counter()
    from sft_gui import P99_GOAL_MS, gui_stall
    from sft_memory import peak_memory
    from sft_throughput import throughput

    speed = throughput()
    memory = peak_memory()
    gui = gui_stall(bench_gguf(), home)
    goals = {
        **{f"ratio_{m}": met for m, met in speed.get("goals_met", {}).items()},
        "lora_memory": memory["lora_goal_met"],
        "gui_p99": gui["p99_ms"] <= P99_GOAL_MS,
    }
    missed = [name for name, met in goals.items() if not met]
    print(f"goals missed: {', '.join(missed) or 'none'}; "
          f"{time.perf_counter() - started:.0f} s in all", flush=True)  # fmt: skip
    emit({
        "benchmark": "sft",
        "throughput": speed,
        "memory": memory,
        "gui_stall": gui,
        "gui_p99_goal_ms": P99_GOAL_MS,
        "goals_met": all(goals.values()) and "goals_met" in speed,
        "goals": goals,
        "moonshots_met": speed.get("moonshots_met", {}),
        "seconds": time.perf_counter() - started,
        "machine": machine(),
    })  # fmt: skip


if __name__ == "__main__":
    main()

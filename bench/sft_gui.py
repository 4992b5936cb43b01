"""The window while the Post-train tab fine-tunes, for `bench_sft.py`: a real
`PosttrainTab` (offscreen) fine-tunes the SmolLM2-135M-shaped model with LoRA on an
identity set through Start, while a 10 ms GUI timer measures its own lateness. The ticks
while it prepares (tokenizer, template, weights) and while it trains are reported apart.

It runs in a child process with Qt's fill helper threads off, as the app sets it
(`QT_NO_GUI_THREADPOOL`, see train_gui.py).

Quick mode: the tiny random model, 2 s.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from common import ForeignLoad, percentile, quick_mode

QUICK = quick_mode()
TRAIN_SECONDS = 2.0 if QUICK else 20.0
P99_GOAL_MS = 50.0


def _measure(model: str, folder: str, conn: Any) -> None:
    os.environ["QT_NO_GUI_THREADPOOL"] = "1"
    os.environ["DEEPDIVE_HOME"] = folder
    conn.send(_stalls(Path(model)))
    conn.close()


def _stalls(model: Path) -> dict[str, Any]:
    from gui_timing import spin, stall_figures, stall_meter_class, wait_for
    from PySide6.QtWidgets import QApplication

    from desktop.ui.posttrain.posttrain_tab import PosttrainTab

    app = QApplication.instance() or QApplication([])
    tab = PosttrainTab()
    tab.resize(1024, 700)
    tab.show()
    tab.set_library([model])
    wait_for(lambda: tab.data_view.examples.count() > 0, 120, "the data preview")
    tab.method.epochs.setValue(50)  # longer than the measurement
    meter = stall_meter_class()()
    training_from: list[float] = []
    tab.session.metrics.connect(lambda _b: training_from.append(time.perf_counter()))
    load = ForeignLoad()
    load.start()
    meter.start()
    tab.start()
    wait_for(lambda: bool(training_from), 300, "the first step")
    spin(TRAIN_SECONDS)
    stalls = meter.stop()
    foreign = load.stop()
    steps = tab.progress.plots.curve_data("train")[0].size
    tab.session.stop()
    wait_for(lambda: not tab.session.running, 120, "the run to stop")
    split: dict[str, list[float]] = {"preparing": [], "training": []}
    for stall, at in zip(stalls, meter.at, strict=True):
        split["training" if at >= training_from[0] else "preparing"].append(stall)
    figures = {**stall_figures(split["training"]), "steps": steps, "foreign_load": foreign,
               "seconds": TRAIN_SECONDS}  # fmt: skip
    figures["preparing"] = {"ticks": len(split["preparing"]),
                            "p99_ms": percentile(split["preparing"], 99),
                            "max_ms": max(split["preparing"], default=0.0)}  # fmt: skip
    tab.shutdown()
    tab.close()
    app.processEvents()
    return figures


def gui_stall(model: Path, home: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    folder = home / "gui-sft"
    folder.mkdir()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_measure, args=(str(model), str(folder), send))
    child.start()
    send.close()
    try:
        figures: dict[str, Any] = receive.recv()
    except EOFError:
        raise SystemExit("the GUI measurement failed (see above)") from None
    child.join(60)
    print(f"GUI while the Post-train tab fine-tunes ({figures['steps']} steps in "
          f"{figures['seconds']:.0f} s): p99 {figures['p99_ms']:.1f} ms, max "
          f"{figures['max_ms']:.1f} ms (goal p99 ≤ {P99_GOAL_MS:.0f}); while preparing p99 "
          f"{figures['preparing']['p99_ms']:.1f} ms; other load {figures['foreign_load']:.0%}",
          flush=True)  # fmt: skip
    return figures

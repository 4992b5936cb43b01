"""The window while the Train tab trains, for `bench_train.py`: a real `TrainTab`
(offscreen) trains each preset on 400 KB of stdlib docs through `start()` while a 10 ms
GUI timer measures its own lateness; the ticks before the first step (the tokenizer) and
after are reported apart.

Each measurement runs in a child process of its own, because one Qt setting cannot be
changed once a process has painted anything: Qt's raster engine hands every fill of 96 or
more pixel rows to a pool of helper threads and waits for them
(`QT_THREAD_PARALLEL_FILLS`), so a repaint stalls until those threads get a core — and
the training thread holds one. `QT_NO_GUI_THREADPOOL=1` (read once, at the first paint)
keeps the fills on the GUI thread. The app sets it at start-up (`desktop/app.py`); the
second child measures Qt's default, with the helper threads, for comparison.

Quick mode: 50 KB of text, 1 s per preset.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from common import ForeignLoad, percentile, quick_mode

QUICK = quick_mode()
SECONDS = {"tiny": 1.0, "small": 1.0} if QUICK else {"tiny": 12.0, "small": 12.0}
STEPS = 5000  # so no run ends inside the measurement
CORPUS_CHARS = 50_000 if QUICK else 400_000
P99_GOAL_MS = 50.0


def _training_phase(text: str) -> bool:
    """The session's phase line once steps run ("Training on N tokens…")."""
    return text.startswith("Training") and "tokenizer" not in text


def _measure(text: str, folder: str, no_pool: bool, conn: Any) -> None:
    if no_pool:
        os.environ["QT_NO_GUI_THREADPOOL"] = "1"
    else:
        os.environ.pop("QT_NO_GUI_THREADPOOL", None)
    os.environ["DEEPDIVE_HOME"] = folder
    conn.send(_stalls(text, Path(folder)))
    conn.close()


def _stalls(text: str, folder: Path) -> dict[str, Any]:
    from common import survive_emit_leak
    from gui_timing import spin, stall_figures, stall_meter_class, wait_for
    from PySide6.QtWidgets import QApplication

    from desktop.ui.train.train_tab import TrainTab

    app = QApplication.instance() or QApplication([])
    out: dict[str, Any] = {"pyside_emit_leaks_true": survive_emit_leak()}
    corpus = folder / "corpus.txt"
    corpus.write_text(text[:CORPUS_CHARS], encoding="utf-8")
    meter = stall_meter_class()()
    for name, seconds in SECONDS.items():
        tab = TrainTab()
        tab.resize(1200, 800)
        tab.show()
        tab.settings.set_corpus_file(corpus)
        tab.settings.preset.setCurrentText(name)
        tab.settings.spins["steps"].setValue(STEPS)
        spin(0.3)
        phases: list[tuple[float, str]] = []
        tab.session.phase.connect(lambda t, phases=phases: phases.append((time.perf_counter(), t)))
        load = ForeignLoad()
        load.start()
        meter.start()
        tab.start()
        spin(seconds)
        stalls = meter.stop()
        foreign = load.stop()
        tab.session.stop()
        wait_for(lambda tab=tab: not tab.session.running, 60, "the training run to stop")
        steps = tab.session.run.step if tab.session.run is not None else 0
        training_from = next((at for at, t in phases if _training_phase(t)), None)
        split: dict[str, list[float]] = {"preparing": [], "training": []}
        for stall, at in zip(stalls, meter.at, strict=True):
            training = training_from is not None and at >= training_from
            split["training" if training else "preparing"].append(stall)
        figures = {**stall_figures(stalls), "seconds": seconds, "steps": steps,
                   "foreign_load": foreign}  # fmt: skip
        for part, values in split.items():
            figures[part] = {"ticks": len(values), "p99_ms": percentile(values, 99),
                             "max_ms": max(values, default=0.0)}  # fmt: skip
        out[name] = figures
        tab.shutdown()
        tab.close()
        tab.deleteLater()
        app.processEvents()
    return out


def gui_stalls(text: str, home: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {}
    for label, no_pool in (("as_the_app_is", True), ("qt_fill_threads", False)):
        folder = home / f"gui-{label}"
        folder.mkdir()
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_measure, args=(text, str(folder), no_pool, send))
        child.start()
        send.close()
        try:
            out[label] = receive.recv()
        except EOFError:
            raise SystemExit(f"the GUI measurement ({label}) failed (see above)") from None
        child.join(30)
        for name in SECONDS:
            f = out[label][name]
            print(f"GUI while training {name} ({label.replace('_', ' ')}; {f['steps']} steps in "
                  f"{f['seconds']:.0f} s, tokenizer first): p99 {f['p99_ms']:.1f} ms, max "
                  f"{f['max_ms']:.1f} ms (goal p99 ≤ {P99_GOAL_MS:.0f}); while training p99 "
                  f"{f['training']['p99_ms']:.1f} / max {f['training']['max_ms']:.1f} ms; other "
                  f"load {f['foreign_load']:.0%}", flush=True)  # fmt: skip
    return out

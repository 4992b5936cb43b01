"""Measuring how long the GUI thread could not react: a 10 ms precise timer's lateness.

Shared by the benchmarks that check the window stays smooth while work runs elsewhere
(a streaming reply, a download). Qt is imported inside the functions: benchmarks import
Qt only after they have set up their data folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from common import percentile

TICK_MS = 10


def stall_meter_class() -> Any:
    from PySide6.QtCore import QObject, Qt, QTimer, Slot

    class StallMeter(QObject):
        """A 10 ms timer in the GUI thread that records how late each tick came."""

        def __init__(self) -> None:
            super().__init__()
            self.timer = QTimer(self)
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.setInterval(TICK_MS)
            self.timer.timeout.connect(self._tick)
            self.stalls_ms: list[float] = []
            self.at: list[float] = []  # perf_counter of each tick
            self._last = 0.0

        def start(self) -> None:
            self.stalls_ms = []
            self.at = []
            self._last = time.perf_counter()
            self.timer.start()

        def stop(self) -> list[float]:
            self.timer.stop()
            return self.stalls_ms

        @Slot()
        def _tick(self) -> None:
            now = time.perf_counter()
            self.stalls_ms.append(max(0.0, (now - self._last) * 1000 - TICK_MS))
            self.at.append(now)
            self._last = now

    return StallMeter


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the event loop until `condition()` holds (checked every 20 ms by a QTimer)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()
        else:
            QTimer.singleShot(20, check)

    QTimer.singleShot(0, check)
    loop.exec()
    if not condition():
        raise SystemExit(f"timed out waiting for {what}")


def spin(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def stall_figures(stalls: list[float]) -> dict[str, float]:
    return {
        "ticks": len(stalls),
        "p50_ms": percentile(stalls, 50),
        "p99_ms": percentile(stalls, 99),
        "max_ms": max(stalls, default=float("nan")),
        "over_30ms": sum(s > 30 for s in stalls),
    }

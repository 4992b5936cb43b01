"""What the Reinforce tab's two pages share: one job at a time through `Jobs`, named by
its kind, a status line, and whether the page is training (the main window then leaves
llama.cpp a core fewer)."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QWidget

from desktop.engine.jobs import Jobs


class JobPage(QWidget):
    running_changed = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.jobs = Jobs(self)
        self._kind = ""  # the job under way, "" when none

    @property
    def busy(self) -> bool:
        return bool(self._kind)

    def status_label(self) -> QLabel:
        raise NotImplementedError

    def _set_busy(self, busy: bool) -> None:
        raise NotImplementedError

    @Slot()
    def stop(self) -> None:
        if self._kind:
            self.jobs.stop(self._kind)

    def _begin(self, kind: str, status: str) -> None:
        self._kind = kind
        self.status_label().setText(status)
        self._set_busy(True)
        self.running_changed.emit(True)

    def _end(self) -> None:
        self._kind = ""
        self._set_busy(False)
        self.running_changed.emit(False)

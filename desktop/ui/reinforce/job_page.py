"""What the Reinforce tab's two pages share: one job at a time through `Jobs`, named by
its kind, a status line, Pause / Resume and Stop, and whether the page is training (the
main window then leaves llama.cpp a core fewer).

Pausing holds the worker between training steps (`run_training` waits while its
`JobControl` says paused), so a paused job keeps its thread and memory but no core."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from desktop.engine.jobs import Jobs


class JobPage(QWidget):
    running_changed = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.jobs = Jobs(self)
        self._kind = ""  # the job under way, "" when none
        self._before_pause = ""  # the status line a pause replaced, back on Resume

    @property
    def busy(self) -> bool:
        return bool(self._kind)

    def status_label(self) -> QLabel:
        raise NotImplementedError

    def pause_button(self) -> QPushButton:
        raise NotImplementedError

    def _set_busy(self, busy: bool) -> None:
        raise NotImplementedError

    @property
    def paused(self) -> bool:
        job = self.jobs.current(self._kind) if self._kind else None
        return job is not None and job.control.paused()

    @Slot()
    def toggle_pause(self) -> None:
        """Pause the job under way, or resume it, and say which."""
        if not self._kind or self.jobs.current(self._kind) is None:
            return
        status = self.status_label()
        if self.paused:
            self.jobs.resume(self._kind)
            self.pause_button().setText("Pause")
            status.setText(self._before_pause)
        else:
            self._before_pause = status.text()
            self.jobs.pause(self._kind)
            self.pause_button().setText("Resume")
            status.setText("Paused: Resume continues, Stop ends (and saves).")

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

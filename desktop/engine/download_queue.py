"""The download queue: one model downloading at a time, the rest waiting, each pausable.

Items live in the GUI thread; each running download is a BackgroundJob over the core's
`download_files`. Pause keeps the partial file (resumed with HTTP Range), Cancel deletes
it. Unfinished downloads found at startup come back as paused items.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.hub.download import download_files
from desktop.core.hub.download_types import (
    DownloadCancelled,
    DownloadPaused,
    DownloadTarget,
    RetryPolicy,
)
from desktop.core.hub.gguf_files import HubFile
from desktop.core.hub.hub_errors import HubError, explain
from desktop.core.hub.partials import PartialDownload
from desktop.engine.background import BackgroundJob, JobControl

State = Literal["queued", "downloading", "paused", "done", "failed", "cancelled"]
SPEED_SMOOTHING = 0.3


@dataclass
class DownloadItem:
    id: int
    repo_id: str
    revision: str
    name: str  # the model's file (a split model's first part)
    parts: tuple[HubFile, ...]
    folder: Path
    state: State = "queued"
    done: int = 0
    message: str = ""
    error_kind: str | None = None
    path: Path | None = None
    speed: float = 0.0  # bytes per second, smoothed
    _last: tuple[float, int] = field(default=(0.0, 0), repr=False)

    @property
    def total(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if self.state != "downloading" or self.speed <= 0:
            return None
        return (self.total - self.done) / self.speed

    @property
    def active(self) -> bool:
        return self.state in ("queued", "downloading")

    def targets(self) -> list[DownloadTarget]:
        return [DownloadTarget(self.repo_id, self.revision, p) for p in self.parts]


class DownloadQueue(QObject):
    item_added = Signal(int)
    item_changed = Signal(int)
    item_finished = Signal(int, str)  # id, path of the model's file
    item_failed = Signal(int, str)  # id, message

    def __init__(self, policy: RetryPolicy | None = None, token: str | None = None) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.token = token
        self.items: list[DownloadItem] = []
        self._ids = itertools.count(1)
        self._job: BackgroundJob | None = None
        self._running: DownloadItem | None = None

    # ---- what the GUI asks ------------------------------------------------------

    def add(
        self,
        repo_id: str,
        revision: str,
        parts: tuple[HubFile, ...],
        folder: Path,
        state: State = "queued",
    ) -> DownloadItem:
        existing = self.find(repo_id, parts[0].path)
        if existing is not None and existing.state not in ("done", "cancelled"):
            if existing.state in ("paused", "failed"):
                self.resume(existing.id)
            return existing
        item = DownloadItem(next(self._ids), repo_id, revision, parts[0].path, parts, folder)
        item.state = state
        self.items.append(item)
        self.item_added.emit(item.id)
        self._start_next()
        return item

    def restore(self, partials: list[PartialDownload], folder: Path) -> None:
        """Unfinished downloads from an earlier run, as paused items (one per model)."""
        for partial in partials:
            note = partial.note
            parts = tuple(t.file for t in note.targets())
            item = self.add(note.repo_id, note.revision, parts, folder, "paused")
            item.done = partial.have
            item.message = "Interrupted last time: Resume to continue."
            self.item_changed.emit(item.id)

    def find(self, repo_id: str, name: str) -> DownloadItem | None:
        return next(
            (i for i in reversed(self.items) if i.repo_id == repo_id and i.name == name), None
        )

    def get(self, item_id: int) -> DownloadItem:
        return next(i for i in self.items if i.id == item_id)

    def pause(self, item_id: int) -> None:
        item = self.get(item_id)
        if item is self._running and self._job is not None:
            self._job.pause()  # the job ends with DownloadPaused at its next chunk
            self._set(item, "downloading", "Pausing…")
        elif item.state == "queued":
            self._set(item, "paused", "Paused.")

    def resume(self, item_id: int) -> None:
        item = self.get(item_id)
        if item is self._running and self._job is not None:
            self._job.control.unpause()  # Resume pressed before the pause took effect
            self._set(item, "downloading", "Downloading…")
        elif item.state in ("paused", "failed"):
            item.error_kind = None
            self._set(item, "queued", "Waiting…")
            self._start_next()

    def cancel(self, item_id: int) -> None:
        item = self.get(item_id)
        if item is self._running and self._job is not None:
            self._job.cancel(disconnect=False)  # the job deletes its parts, then reports
            self._set(item, "downloading", "Cancelling…")
        elif item.state in ("queued", "paused", "failed"):
            for target in item.targets():
                target.discard(item.folder)
            self._set(item, "cancelled", "Cancelled.")

    def clear_finished(self) -> None:
        self.items = [i for i in self.items if i.state not in ("done", "cancelled")]

    def shutdown(self, timeout: float = 1.0) -> None:
        """The app is closing: pause the running download so it resumes next time (pause
        wins over any cancel that follows, so the bytes on disk are kept)."""
        if self._job is not None:
            self._job.pause()
            self._job.wait(timeout)

    # ---- running ----------------------------------------------------------------

    @property
    def running(self) -> DownloadItem | None:
        return self._running

    def _start_next(self) -> None:
        if self._running is not None:
            return
        item = next((i for i in self.items if i.state == "queued"), None)
        if item is None:
            return
        self._running = item
        item._last = (time.monotonic(), item.done)
        self._set(item, "downloading", "Starting…")
        targets, folder, token, policy = item.targets(), item.folder, self.token, self.policy

        def work(control: JobControl) -> list[Path]:
            return download_files(targets, folder, control, token=token, policy=policy)

        job = BackgroundJob(work, name=f"download {item.name}")
        job.progressed.connect(self._on_progress)
        job.status_changed.connect(self._on_status)
        job.succeeded.connect(self._on_succeeded)
        job.failed.connect(self._on_failed)
        self._job = job
        job.start()

    @Slot(object, object)
    def _on_progress(self, done: int, _total: int) -> None:
        item = self._running
        if item is None:
            return
        now = time.monotonic()
        last_time, last_done = item._last
        if now - last_time >= 0.2:
            rate = (done - last_done) / (now - last_time)
            item.speed = rate if item.speed == 0 else (
                SPEED_SMOOTHING * rate + (1 - SPEED_SMOOTHING) * item.speed
            )  # fmt: skip
            item._last = (now, done)
        item.done = done
        self.item_changed.emit(item.id)

    @Slot(str)
    def _on_status(self, text: str) -> None:
        if self._running is not None:
            self._running.message = text
            self.item_changed.emit(self._running.id)

    @Slot(object)
    def _on_succeeded(self, paths: list[Path]) -> None:
        item = self._finish_job()
        item.path = paths[0]
        item.done = item.total
        already = item.message == "Already in the library."
        self._set(item, "done", item.message if already else "Downloaded and verified (sha256).")
        self.item_finished.emit(item.id, str(paths[0]))
        self._start_next()

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        item = self._finish_job()
        if isinstance(exc, DownloadPaused):
            self._set(item, "paused", "Paused: Resume continues where it stopped.")
        elif isinstance(exc, DownloadCancelled):
            item.done = 0
            self._set(item, "cancelled", "Cancelled: the partial file was deleted.")
        else:
            error = exc if isinstance(exc, HubError) else explain(exc)
            item.error_kind = error.kind
            self._set(item, "failed", str(error))
            self.item_failed.emit(item.id, str(error))
        self._start_next()

    def _finish_job(self) -> DownloadItem:
        item = self._running
        assert item is not None
        self._running, self._job = None, None
        item.speed = 0.0
        return item

    def _set(self, item: DownloadItem, state: State, message: str) -> None:
        item.state, item.message = state, message
        self.item_changed.emit(item.id)

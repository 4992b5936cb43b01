"""Downloading a GGUF model: resumable, retried, verified, and never half-visible.

Bytes go to `<models>/.downloads/<owner>/<repo>/<file>.part`, next to a small JSON note
of what they are, so a download survives Pause, a dropped connection or a killed app and
resumes with an HTTP Range request. Only when every part of the model has matched the
size and sha256 of the Hub's LFS metadata are they moved (fsync + os.replace) to
`<models>/<owner>/<repo>/<file>`, where the library looks. huggingface_hub provides the
URLs, auth headers, metadata request, error types and HTTP session; the byte loop is
ours (file_download.py), because it must pause, cancel, report and hash as it goes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from desktop.core.hub.download_types import (
    DOWNLOADS_FOLDER,
    DownloadCancelled,
    DownloadControl,
    DownloadPaused,
    DownloadTarget,
    RetryPolicy,
    part_size,
)
from desktop.core.hub.endpoint import offline_mode
from desktop.core.hub.file_download import FileDownload
from desktop.core.hub.hub_errors import HubError

__all__ = [
    "DownloadCancelled",
    "DownloadPaused",
    "DownloadTarget",
    "RetryPolicy",
    "check_disk_space",
    "download_files",
]
DISK_MARGIN = 64 << 20  # keep this much free after the download
DEFAULT_POLICY = RetryPolicy()


def download_files(
    targets: list[DownloadTarget],
    models_dir: Path,
    control: DownloadControl,
    *,
    token: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> list[Path]:
    """Download the parts of one model and return their paths in the library."""
    from desktop.core.file_lock import AlreadyLocked, exclusive_lock

    if offline_mode():
        raise HubError("Offline mode is on (HF_HUB_OFFLINE): nothing can be downloaded.",
                       "offline", retryable=False)  # fmt: skip
    for target in targets:
        if not target.is_inside(models_dir):
            raise HubError(f"Refusing the unsafe file name {target.file.path!r}.", "corrupt")
    pending = [t for t in targets if not t.final_path(models_dir).exists()]
    if not pending:
        control.status("Already in the library.")
    check_disk_space(models_dir, sum(t.file.size - part_size(t.part_path(models_dir))
                                     for t in pending))  # fmt: skip
    lock = models_dir / DOWNLOADS_FOLDER / targets[0].repo_id / (targets[0].file.path + ".lock")
    try:
        with exclusive_lock(lock):
            _fetch_all(targets, pending, models_dir, control, token, policy)
            _check(control)  # a Cancel or Pause during "Verifying…" still counts
            _publish(pending, models_dir)
    except AlreadyLocked:
        raise HubError("This model is already being downloaded (by another window or "
                       "command).", "other", retryable=False) from None  # fmt: skip
    except DownloadCancelled:
        for target in targets:
            target.discard(models_dir)
        raise
    lock.unlink(missing_ok=True)
    control.progress(_total(targets), _total(targets))
    return [t.final_path(models_dir) for t in targets]


def _fetch_all(
    targets: list[DownloadTarget],
    pending: list[DownloadTarget],
    models_dir: Path,
    control: DownloadControl,
    token: str | None,
    policy: RetryPolicy,
) -> None:
    total, done_before = _total(targets), 0
    for target in targets:
        if target in pending:

            def report(done: int, base: int = done_before) -> None:
                control.progress(base + done, total)

            FileDownload(target, tuple(targets), models_dir, control, report, token,
                         policy).fetch_and_verify()  # fmt: skip
        done_before += target.file.size


def _publish(pending: list[DownloadTarget], models_dir: Path) -> None:
    """Every part has passed its check: move them into the library, durably."""
    from desktop.core.atomic_files import fsync_path

    for target in pending:
        part, final = target.part_path(models_dir), target.final_path(models_dir)
        fsync_path(part)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, final)
        fsync_path(final.parent, directory=True)
        target.note_path(models_dir).unlink(missing_ok=True)


def _check(control: DownloadControl) -> None:
    if control.paused():
        raise DownloadPaused()
    if control.cancelled():
        raise DownloadCancelled()


def _total(targets: list[DownloadTarget]) -> int:
    return sum(t.file.size for t in targets)


def check_disk_space(folder: Path, need: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if need + DISK_MARGIN > free:
        from desktop.core.formatting import format_bytes

        raise HubError(
            f"Not enough disk space in {folder}: the download needs {format_bytes(need)}, "
            f"{format_bytes(free)} is free.",
            "disk",
        )

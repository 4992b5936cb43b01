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
    NOTE_SUFFIX,
    DownloadCancelled,
    DownloadPaused,
    DownloadTarget,
    RetryPolicy,
    part_size,
)
from desktop.core.hub.endpoint import offline_mode
from desktop.core.hub.file_download import FileDownload
from desktop.core.hub.hub_errors import HubError, explain
from desktop.core.job_state import JobState
from desktop.core.storage.atomic_files import PARTIAL_SUFFIX

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
# The most a name gets longer on disk: `.<name>.part.json.<8 random>.partial`, the
# temporary file the note is written through.
LONGEST_ADDITION = len("." + NOTE_SUFFIX + ".12345678" + PARTIAL_SUFFIX)


def download_files(
    targets: list[DownloadTarget],
    models_dir: Path,
    control: JobState,
    *,
    token: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> list[Path]:
    """Download the parts of one model and return their paths in the library."""
    if offline_mode():
        raise HubError("Offline mode is on (HF_HUB_OFFLINE): nothing can be downloaded. To "
                       "download, start again without HF_HUB_OFFLINE.",
                       "offline", retryable=False)  # fmt: skip
    for target in targets:
        if not target.is_inside(models_dir):
            raise HubError(f"Refusing the unsafe file name {target.file.path!r}.", "corrupt")
        check_name_length(target, models_dir)
    try:
        return _download(targets, models_dir, control, token, policy)
    except OSError as exc:  # the lock, the folders: a file name too long, a read-only disk…
        raise explain(exc, targets[0].file.path) from exc


def _download(
    targets: list[DownloadTarget],
    models_dir: Path,
    control: JobState,
    token: str | None,
    policy: RetryPolicy,
) -> list[Path]:
    from desktop.core.storage.file_lock import AlreadyLocked, exclusive_lock

    pending = [t for t in targets if not t.final_path(models_dir).exists()]
    if not pending:
        control.status("Already in the library.")
    check_disk_space(models_dir, sum(t.file.size - part_size(t.part_path(models_dir))
                                     for t in pending))  # fmt: skip
    try:
        with exclusive_lock(targets[0].lock_path(models_dir)):  # removed when released
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
    control.progress(_total(targets), _total(targets))
    return [t.final_path(models_dir) for t in targets]


def check_name_length(target: DownloadTarget, models_dir: Path) -> None:
    """A Hub file name may be longer than this file system allows (255 bytes per name on
    most): say so before any byte is fetched, instead of failing on the first write."""
    name_max = _name_max(models_dir)
    *folders, name = [*target.repo_id.split("/"), *target.file.path.split("/")]
    for part, limit in [*((f, name_max) for f in folders), (name, name_max - LONGEST_ADDITION)]:
        size = len(os.fsencode(part))
        if size > limit:
            short = part if len(part) <= 60 else f"{part[:40]}…{part[-12:]}"
            raise HubError(
                f"The name “{short}” is too long for this computer's file system ({size} "
                f"bytes; at most {limit} fit here). Pick another file, or download it with "
                "your browser and add it with Import GGUF under a shorter name.",
                "other",
                retryable=False,
            )


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):  # Windows has no pathconf; NTFS allows 255
        return 255


def _fetch_all(
    targets: list[DownloadTarget],
    pending: list[DownloadTarget],
    models_dir: Path,
    control: JobState,
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
    from desktop.core.storage.atomic_files import fsync_path

    for target in pending:
        part, final = target.part_path(models_dir), target.final_path(models_dir)
        fsync_path(part)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, final)
        fsync_path(final.parent, directory=True)
        target.note_path(models_dir).unlink(missing_ok=True)


def _check(control: JobState) -> None:
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

"""What a download is made of: its targets, where their bytes live, the note that lets a
later run resume them, the retry policy, and the two ways a user can stop one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from desktop.core.hub.gguf_files import HubFile

DOWNLOADS_FOLDER = ".downloads"
PART_SUFFIX = ".part"
NOTE_SUFFIX = ".part.json"
LOCK_SUFFIX = ".lock"


class DownloadCancelled(Exception):
    """Cancelled by the user: the partial files are gone."""


class DownloadPaused(Exception):
    """Paused by the user (or the app closing): the partial files stay, to be resumed."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in a row that bring no new bytes
    first_wait: float = 0.5
    max_wait: float = 30.0
    read_timeout: float = 30.0  # a stall this long counts as a dropped connection
    connect_timeout: float = 15.0

    def wait(self, failures: int) -> float:
        return float(min(self.max_wait, self.first_wait * 2 ** max(0, failures - 1)))


@dataclass(frozen=True)
class DownloadTarget:
    """One file of a model download, and where it lands."""

    repo_id: str
    revision: str
    file: HubFile

    def final_path(self, models_dir: Path) -> Path:
        return models_dir / self.repo_id / self.file.path

    def part_path(self, models_dir: Path) -> Path:
        return models_dir / DOWNLOADS_FOLDER / self.repo_id / (self.file.path + PART_SUFFIX)

    def note_path(self, models_dir: Path) -> Path:
        return models_dir / DOWNLOADS_FOLDER / self.repo_id / (self.file.path + NOTE_SUFFIX)

    def lock_path(self, models_dir: Path) -> Path:
        """Held while a process downloads the model this file starts (see file_lock)."""
        return models_dir / DOWNLOADS_FOLDER / self.repo_id / (self.file.path + LOCK_SUFFIX)

    def discard(self, models_dir: Path) -> None:
        """Forget a partial download: its bytes and its note."""
        self.part_path(models_dir).unlink(missing_ok=True)
        self.note_path(models_dir).unlink(missing_ok=True)

    def is_inside(self, models_dir: Path) -> bool:
        """A repository's names must not lead outside its own folder in the library."""
        root = models_dir.resolve()
        repo = (models_dir / self.repo_id).resolve()
        return root in repo.parents and repo in self.final_path(models_dir).resolve().parents


@dataclass(frozen=True)
class PartNote:
    """What a .part file is, written before its first byte: enough to resume or discard.
    `model_parts` lists every file of the model, so a split model resumes whole."""

    repo_id: str
    revision: str
    path: str
    size: int
    sha256: str | None
    model_parts: tuple[HubFile, ...] = ()

    def targets(self) -> list[DownloadTarget]:
        parts = self.model_parts or (HubFile(self.path, self.size, self.sha256),)
        return [DownloadTarget(self.repo_id, self.revision, f) for f in parts]


def read_note(path: Path) -> PartNote | None:
    """The note at `path`, or None if it is missing, unreadable or points anywhere odd."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        parts = tuple(
            HubFile(str(p["path"]), int(p["size"]), p.get("sha256"))
            for p in data.get("model_parts", [])
        )
        note = PartNote(str(data["repo_id"]), str(data["revision"]), str(data["path"]),
                        int(data["size"]), data.get("sha256"), parts)  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    names = [note.repo_id, note.path, *(p.path for p in parts)]
    if any(Path(n).is_absolute() or ".." in Path(n).parts for n in names):
        return None
    return note


def part_size(part: Path) -> int:
    try:
        return part.stat().st_size
    except OSError:
        return 0

"""Downloads that an earlier run left unfinished: resumed, or cleaned up — never models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.core.hub.download_types import (
    DOWNLOADS_FOLDER,
    LOCK_SUFFIX,
    NOTE_SUFFIX,
    PART_SUFFIX,
    PartNote,
    part_size,
    read_note,
)
from desktop.core.storage.file_lock import remove_stale_lock


@dataclass(frozen=True)
class PartialDownload:
    """One unfinished model (all of its parts), and how many of its bytes are on disk."""

    note: PartNote
    have: int

    @property
    def total(self) -> int:
        return sum(t.file.size for t in self.note.targets())


def find_partial_downloads(models_dir: Path) -> list[PartialDownload]:
    """Resumable leftovers, one per model; anything that cannot be resumed is deleted."""
    root = models_dir / DOWNLOADS_FOLDER
    if not root.is_dir():
        return []
    models: dict[tuple[str, str], PartNote] = {}
    for note_path in sorted(root.rglob("*" + NOTE_SUFFIX)):
        part = note_path.with_name(note_path.name.removesuffix(NOTE_SUFFIX) + PART_SUFFIX)
        note = read_note(note_path)
        if note is None or (models_dir / note.repo_id / note.path).exists():
            note_path.unlink(missing_ok=True)  # unreadable, or finished after all
            part.unlink(missing_ok=True)
            continue
        if part_size(part) > note.size:
            part.unlink()
        first = note.targets()[0].file.path
        models.setdefault((note.repo_id, first), note)
    for part in root.rglob("*" + PART_SUFFIX):  # bytes with no note say nothing: drop them
        if not part.with_name(part.name.removesuffix(PART_SUFFIX) + NOTE_SUFFIX).exists():
            part.unlink(missing_ok=True)
    for lock in root.rglob("*" + LOCK_SUFFIX):  # left by a killed process; a held one stays
        remove_stale_lock(lock)
    return [
        PartialDownload(note, sum(part_size(t.part_path(models_dir)) for t in note.targets()))
        for note in models.values()
    ]

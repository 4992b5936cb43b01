"""Downloads that an earlier run left unfinished: resumed, or cleaned up — never models."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from desktop.core.hub.download import DOWNLOADS_FOLDER, NOTE_SUFFIX, PART_SUFFIX, PartNote


@dataclass(frozen=True)
class PartialDownload:
    note: PartNote
    have: int  # bytes already on disk


def find_partial_downloads(models_dir: Path) -> list[PartialDownload]:
    """Resumable leftovers; anything that cannot be resumed is deleted on the way."""
    root = models_dir / DOWNLOADS_FOLDER
    if not root.is_dir():
        return []
    found = []
    for note_path in sorted(root.rglob("*" + NOTE_SUFFIX)):
        part = note_path.with_name(note_path.name.removesuffix(NOTE_SUFFIX) + PART_SUFFIX)
        note = _read_note(note_path)
        if note is None or (models_dir / note.repo_id / note.path).exists():
            note_path.unlink(missing_ok=True)  # unreadable, or finished after all
            part.unlink(missing_ok=True)
            continue
        have = part.stat().st_size if part.exists() else 0
        if have > note.size:
            part.unlink()
            have = 0
        found.append(PartialDownload(note, have))
    for part in root.rglob("*" + PART_SUFFIX):  # bytes with no note say nothing: drop them
        if not part.with_name(part.name.removesuffix(PART_SUFFIX) + NOTE_SUFFIX).exists():
            part.unlink(missing_ok=True)
    return found


def _read_note(path: Path) -> PartNote | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        note = PartNote(
            repo_id=str(data["repo_id"]),
            revision=str(data["revision"]),
            path=str(data["path"]),
            size=int(data["size"]),
            sha256=data.get("sha256"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if ".." in Path(note.repo_id).parts or ".." in Path(note.path).parts:
        return None  # a note must not point outside the models folder
    return note

"""The local model library: every GGUF in the models folders, with its header read.

A split model (`-00001-of-00003.gguf`) is one entry, opened by its first part. Hidden
folders (`.downloads`, where unfinished downloads live) and hidden files (atomic-write
temporaries) are never listed: nothing half-written looks like a model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop.core.hub.gguf_files import split_name
from desktop.core.models.gguf_check import check_gguf
from desktop.core.models.model_info import ModelInfo, read_model_info
from desktop.core.storage.atomic_files import replacing

COPY_CHUNK = 4 << 20


@dataclass(frozen=True)
class LibraryEntry:
    path: Path  # the file llama.cpp opens (a split model's first part)
    folder: Path  # the library folder it was found in
    parts: tuple[Path, ...]
    size: int
    info: ModelInfo | None
    error: str | None = None  # why the file cannot be used, when it cannot

    @property
    def name(self) -> str:
        return self.info.name if self.info else self.path.stem

    @property
    def relative(self) -> str:
        return self.path.relative_to(self.folder).as_posix()


def scan_library(folders: Iterable[Path]) -> list[LibraryEntry]:
    """Every model in the folders. Never raises for what is in them: a file that cannot be
    used (a symlink loop, a FIFO, no permission) is one broken entry with the reason."""
    entries: list[LibraryEntry] = []
    seen: set[str] = set()
    for folder in folders:
        for first, parts in _gguf_models(folder):
            real = _real_path(first)
            if real not in seen:  # one folder may sit inside another
                seen.add(real)
                entries.append(_entry(first, folder, parts))
    return sorted(entries, key=lambda e: (e.name.lower(), str(e.path)))


def model_files(folders: Iterable[Path]) -> list[Path]:
    """The file to open for each model in the folders, without reading headers (fast)."""
    found = {_real_path(first): first for folder in folders for first, _ in _gguf_models(folder)}
    return sorted(found.values(), key=lambda p: p.name.lower())


def _real_path(path: Path) -> str:
    """Where a path really leads, for spotting one file reached twice; a link that leads
    nowhere (a loop, a missing target) is only itself. Path.resolve() raises on a loop."""
    try:
        return os.path.realpath(path)
    except (OSError, RuntimeError, ValueError):
        return os.path.abspath(path)


def _gguf_models(folder: Path) -> list[tuple[Path, tuple[Path, ...]]]:
    singles: list[tuple[Path, tuple[Path, ...]]] = []
    splits: dict[Path, list[Path]] = {}
    for path in _gguf_names(folder):
        split = split_name(path.name)
        if split:
            splits.setdefault(path.parent / split.stem, []).append(path)
        else:
            singles.append((path, (path,)))
    for parts in splits.values():
        ordered = tuple(sorted(parts))
        singles.append((ordered[0], ordered))
    return singles


def _gguf_names(folder: Path) -> Iterator[Path]:
    """Every visible `*.gguf` name under `folder` that is not a real folder: files, and links,
    pipes and the like (so that they are listed as broken, not hidden). Links to folders
    are not followed (no loops); iterative, so no depth is too deep; a folder that cannot
    be read is passed over."""
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as scan:
                found = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in found:
            if entry.name.startswith("."):
                continue
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False
            if is_folder:
                subfolders.append(Path(entry.path))
            elif entry.name.lower().endswith(".gguf") and not _links_to_folder(entry):
                yield Path(entry.path)
        pending.extend(reversed(subfolders))  # depth first, in name order, like os.walk


def _links_to_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink() and entry.is_dir()
    except OSError:
        return False


def _entry(first: Path, folder: Path, parts: tuple[Path, ...]) -> LibraryEntry:
    size = sum(_size(p) for p in parts)
    split = split_name(first.name)
    if split and (split.part != 1 or split.total != len(parts)):
        missing = f"{split.total - len(parts)} of its {split.total} parts"
        return LibraryEntry(first, folder, parts, size, None, f"split model missing {missing}")
    # The same check the engine runs before loading: header and tensor data bounds.
    result = check_gguf(first, check_memory=False)
    if not result.ok or result.info is None:
        reason = result.errors[0] if result.errors else "cannot be read"
        return LibraryEntry(first, folder, parts, size, None, reason)
    return LibraryEntry(first, folder, parts, size, result.info)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def delete_entry(entry: LibraryEntry) -> None:
    """Delete the model's files, then folders left empty (up to the library folder)."""
    for part in entry.parts:
        part.unlink(missing_ok=True)
    parent = entry.path.parent
    while parent != entry.folder and entry.folder in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break  # not empty: other models live here
        parent = parent.parent


def import_gguf(
    source: Path,
    folder: Path,
    progress: Callable[[int, int], None] = lambda done, total: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Path:
    """Copy a GGUF into the library folder, checked first and appearing whole or not at all."""
    read_model_info(source)  # refuse a broken file before copying gigabytes (GGUFError)
    target = folder / "imported" / source.name
    if target.exists():
        raise FileExistsError(f"{target.name} is already in the library")
    target.parent.mkdir(parents=True, exist_ok=True)
    total, done = source.stat().st_size, 0
    with replacing(target) as temporary, source.open("rb") as src, temporary.open("wb") as out:
        while block := src.read(COPY_CHUNK):
            if cancelled():
                raise InterruptedError("import cancelled")
            out.write(block)
            done += len(block)
            progress(done, total)
    return target

"""Files that appear whole or not at all: models, exports, checkpoints, downloads.

Write to a temporary file in the same folder, fsync it, give it the permissions a normal
file would have, `os.replace` it over the target, fsync the folder. A crash at any point
leaves either the old file or the new one, never half of one; a leftover temporary file
is hidden (dot-name) and marked `.partial`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


@cache
def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def fsync_path(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return  # Windows cannot open a folder; its rename is durable enough
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target` atomically."""
    target = Path(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        fsync_path(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600 files
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(target.parent, directory=True)


def write_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)

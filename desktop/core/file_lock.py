"""An exclusive lock on a file, held while one process works on something others must not
touch at the same time (a download's partial file: the GUI and the command line, or two
app windows). Non-blocking: a second taker is told at once."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


class AlreadyLocked(Exception):
    pass


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            _lock(fd)
        except OSError as exc:
            raise AlreadyLocked(str(path)) from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock on every platform


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

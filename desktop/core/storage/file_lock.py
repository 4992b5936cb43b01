"""An exclusive lock on a file, held while one process works on something others must not
touch at the same time (a download's partial file: the GUI and the command line, or two
app windows). Non-blocking: a second taker is told at once.

The lock file is removed when the lock is released, so finished and failed downloads
leave no `.lock` files behind. Removing a lock file safely takes care: a second process
may have opened the old file just before it went, and would then "hold" a lock on a file
nobody else can see. So the file is unlinked while still locked, and a taker checks after
locking that the name still leads to the file it locked, and tries again if not.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

_ATTEMPTS = 5  # each retry means another process removed the file in between: rare


class AlreadyLocked(Exception):
    pass


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path)
    try:
        yield
    finally:
        if sys.platform != "win32":  # Windows cannot remove an open file; see remove_stale_lock
            with contextlib.suppress(OSError):
                path.unlink()
        os.close(fd)  # closing releases the lock on every platform
        if sys.platform == "win32":
            with contextlib.suppress(OSError):
                path.unlink()


def remove_stale_lock(path: Path) -> bool:
    """Remove a lock file that nobody holds (left by a killed process); True if removed."""
    try:
        with exclusive_lock(path):
            pass
    except (AlreadyLocked, OSError):
        return False
    return True


def _acquire(path: Path) -> int:
    for _ in range(_ATTEMPTS):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd)
        except OSError as exc:
            os.close(fd)
            raise AlreadyLocked(str(path)) from exc
        if _still_named(fd, path):
            return fd
        os.close(fd)  # its holder removed it as we took it: take the new one
    raise AlreadyLocked(str(path))


def _still_named(fd: int, path: Path) -> bool:
    if sys.platform == "win32":
        return True  # an open file cannot be removed there
    try:
        held, named = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

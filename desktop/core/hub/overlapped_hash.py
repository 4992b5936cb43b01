"""The download's helper thread: the sha256, and the start of writing to disk, done beside
the byte loop instead of in it.

hashlib releases the GIL on large updates, so the helper hashes one chunk while the loop
receives the next: on two cores that hides most of the hashing time (the download
benchmark: ~0.36 s → ~0.31 s for 200 MB). Asking the OS to start writing a finished range
back to disk (so that the fsync before publishing has little left to wait for) costs the
calling thread 2-4 ms per 16 MB — the kernel queues the pages' I/O right there, ~20-40 ms
for 200 MB — so the helper does that too, in order with the hashing, through its own
duplicate of the file descriptor: the loop never waits for it, and a file the loop has
closed meanwhile is no problem. The thread lives only inside one `OverlappedHash` and is
always joined by `hexdigest()` or `close()`.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading

BATCH_BYTES = 1 << 20  # hand chunks over a megabyte at a time: fewer thread switches
QUEUE_BATCHES = 8  # at most this many batches wait for the hasher

WriteBack = tuple[int, int, int]  # a duplicated fd, start, length


class OverlappedHash:
    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._batches: queue.Queue[list[bytes] | WriteBack | None] = queue.Queue(
            maxsize=QUEUE_BATCHES
        )
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._thread = threading.Thread(target=self._work, name="sha256", daemon=True)
        self._thread.start()

    def update(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        if self._batch_bytes >= BATCH_BYTES:
            self._hand_over()

    def write_back(self, fd: int, start: int, length: int) -> None:
        """Have the OS start writing `length` bytes of the file `fd` from `start` to disk
        (Linux: fadvise starts writeback of dirty pages without waiting; elsewhere
        nothing), on the helper thread. The bytes must already be written to `fd` (not
        held in a Python buffer); `fd` is duplicated here, so the caller may close it."""
        if not hasattr(os, "posix_fadvise") or length <= 0 or not self._thread.is_alive():
            return
        self._hand_over()
        self._batches.put((os.dup(fd), start, length))

    def _hand_over(self) -> None:
        if self._batch:
            self._batches.put(self._batch)
            self._batch, self._batch_bytes = [], 0

    def hexdigest(self) -> str:
        self.close()
        return self._hash.hexdigest()

    def close(self) -> None:
        if self._thread.is_alive():
            self._hand_over()
            self._batches.put(None)
            self._thread.join()

    def _work(self) -> None:
        while (item := self._batches.get()) is not None:
            if isinstance(item, tuple):
                _start_writeback(*item)
            else:
                for chunk in item:
                    self._hash.update(chunk)


def _start_writeback(fd: int, start: int, length: int) -> None:
    try:
        os.posix_fadvise(fd, start, length, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass  # only a hint: the fsync before publishing writes whatever is left
    finally:
        os.close(fd)

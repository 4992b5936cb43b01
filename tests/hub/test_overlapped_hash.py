"""The download's helper thread: the sha256 of every byte, and the start of write-back
(fadvise) asked from the helper, never from the byte loop that receives the bytes."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

import pytest

import desktop.core.hub.file_download as file_download
import desktop.core.hub.overlapped_hash as overlapped_hash
from desktop.core.hub.overlapped_hash import OverlappedHash
from tests.fake_hub import FakeHub
from tests.hub.test_download import download, target

linux_only = pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no fadvise here")


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if sys.platform.startswith("linux") else set()


def open_files_under(folder: Path) -> list[str]:
    """What this process holds open in `folder` (Linux; elsewhere nothing is known)."""
    found = []
    for fd in open_fds():
        try:
            name = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if name.startswith(str(folder)):
            found.append(name)
    return found


class Recorder:
    """Stands in for os.posix_fadvise: who asked, for what, on an open descriptor."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, int, int, bool]] = []
        self.fail = fail

    def __call__(self, fd: int, start: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_DONTNEED
        try:
            os.fstat(fd)
            is_open = True
        except OSError:
            is_open = False
        self.calls.append((threading.current_thread().name, start, length, is_open))
        if self.fail:
            raise OSError(22, "fadvise says no")


def test_the_digest_is_sha256_of_every_chunk_in_order() -> None:
    chunks = [os.urandom(n) for n in (1, 70_000, 3 << 20, 5, 1 << 20, 0, 12_345)]
    hasher = OverlappedHash()
    for chunk in chunks:
        hasher.update(chunk)
    assert hasher.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()


@linux_only
def test_write_back_runs_on_the_helper_with_its_own_descriptor(tmp_path: Path, monkeypatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(overlapped_hash.os, "posix_fadvise", recorder)
    data = os.urandom(3 << 20)
    before = open_fds()
    hasher = OverlappedHash()
    with (tmp_path / "part").open("wb") as out:
        out.write(data)
        out.flush()
        hasher.update(data)
        hasher.write_back(out.fileno(), 0, len(data))
    # the caller's file is closed before the helper gets to it: its duplicate still works
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert recorder.calls == [("sha256", 0, len(data), True)]
    assert open_fds() == before  # the duplicate was closed, and the helper has ended


@linux_only
def test_a_refused_write_back_changes_nothing_else(tmp_path: Path, monkeypatch) -> None:
    recorder = Recorder(fail=True)
    monkeypatch.setattr(overlapped_hash.os, "posix_fadvise", recorder)
    before = open_fds()
    hasher = OverlappedHash()
    with (tmp_path / "part").open("wb") as out:
        for _ in range(3):
            out.write(b"x" * 1000)
            out.flush()
            hasher.update(b"x" * 1000)
            hasher.write_back(out.fileno(), 0, 1000)
    assert hasher.hexdigest() == hashlib.sha256(b"x" * 3000).hexdigest()
    assert len(recorder.calls) == 3
    assert open_fds() == before


@linux_only
def test_the_download_loop_never_waits_for_write_back(
    hub: FakeHub, models_dir: Path, monkeypatch
) -> None:
    """Every byte the download wrote is handed to the helper for write-back, in order,
    up to the end, and the loop's own thread never calls fadvise (it cost it 20-40 ms per
    200 MB)."""
    recorder = Recorder()
    monkeypatch.setattr(overlapped_hash.os, "posix_fadvise", recorder)
    monkeypatch.setattr(file_download, "WRITEBACK_EVERY", 16 << 10)
    size = target(hub).file.size
    assert size > 4 * (16 << 10)  # several ranges
    path = download(hub, models_dir)
    assert path.stat().st_size == size
    assert {name for name, *_ in recorder.calls} == {"sha256"}
    assert all(is_open for *_, is_open in recorder.calls)
    ends = [0] + [start + length for _, start, length, _ in recorder.calls]
    assert [start for _, start, _, _ in recorder.calls] == ends[:-1]  # contiguous, in order
    assert ends[-1] == size  # the tail too, once the last byte is in
    assert open_files_under(models_dir) == []  # no duplicate left open

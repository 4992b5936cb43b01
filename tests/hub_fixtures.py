"""A fake Hub with tiny GGUF repositories, and a download control the tests can steer.

Imported by tests/conftest.py, so every test folder can use these fixtures.
"""

from __future__ import annotations

import errno
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop.core.hub.download import RetryPolicy
from tests.fake_hub import FakeHub, fake_hub  # noqa: F401 - re-exported fixture
from tests.gguf_fixtures import make_tiny_gguf

REPO = "org/tiny-GGUF"
GATED = "org/gated-GGUF"
FILE = "tiny-Q8_0.gguf"
FAST = RetryPolicy(attempts=4, first_wait=0.01, max_wait=0.05, read_timeout=0.5,
                   connect_timeout=2.0)  # fmt: skip


# What each user-facing Hub error must say (regular expressions, any case): its cause and
# what the person can do about it. A message cut to a letter, or one that lost its remedy,
# fails the tests that show it (core, command line and the Models tab).
SAYS: dict[str, tuple[str, ...]] = {
    "offline": (r"cannot reach", r"check the internet connection"),
    "offline_mode": (r"offline mode", r"HF_HUB_OFFLINE\b", r"without HF_HUB_OFFLINE"),
    "unauthorized": (r"refused access", r"\b40[13]\b", r"check your access token"),
    "token_rejected": (r"did not accept this token", r"settings → access tokens"),
    "not_found": (r"not found", r"check (its|the) name|list the repository's files again"),
    "server": (r"the hub had a problem", r"\b5\d\d\b", r"try again"),
    "disk": (r"disk is full", r"free some space", r"resume"),
    "no_space": (r"not enough disk space", r"needs \d", r"\d.* is free"),
    "gated": (r"gated", r"accept its licence", r"access token"),
}


def assert_says(message: str, what: str) -> None:
    """`message` names the cause and the remedy that SAYS[what] asks for."""
    missing = [p for p in SAYS[what] if not re.search(p, message, re.IGNORECASE)]
    assert not missing, f"{message!r} does not say {missing} ({what})"


class _FillingFile:
    """A download's .part file on a disk that fills up: a write past the room left fails
    as the OS fails it (ENOSPC); everything else is the real file's."""

    def __init__(self, real: Any, room: list[int]) -> None:
        self._real, self._room = real, room

    def write(self, data: Any) -> int:
        if len(data) > self._room[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room[0] -= len(data)
        return int(self._real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()


def fill_disk_after(monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    """From now on, the disk has room for `room` more bytes of downloads (`.part` files):
    the lowest layer the app writes through, `Path.open`, hands out files that fail with
    ENOSPC beyond that. (A real full file system would need root to mount.)"""
    left = [room]
    real_open = Path.open

    def open_on_a_filling_disk(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        f = real_open(self, mode, *args, **kwargs)
        writing = any(c in mode for c in "wa+")
        return _FillingFile(f, left) if self.suffix == ".part" and writing else f

    monkeypatch.setattr(Path, "open", open_on_a_filling_disk)


class Control:
    """The GUI's part in a download: flags it sets, reports it gets."""

    def __init__(self, pause_at: int | None = None, cancel_at: int | None = None) -> None:
        self.pause_at, self.cancel_at = pause_at, cancel_at
        self.reports: list[tuple[int, int]] = []
        self.statuses: list[str] = []

    def cancelled(self) -> bool:
        return self.cancel_at is not None and self.done >= self.cancel_at

    def paused(self) -> bool:
        return self.pause_at is not None and self.done >= self.pause_at

    @property
    def done(self) -> int:
        return self.reports[-1][0] if self.reports else 0

    def progress(self, done: int, total: int) -> None:
        self.reports.append((done, total))

    def status(self, text: str) -> None:
        self.statuses.append(text)


@pytest.fixture(scope="session")
def gguf_bytes(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], bytes]:
    """Tiny real GGUF files, different per seed (so their sha256 differ)."""
    cache: dict[int, bytes] = {}
    folder = tmp_path_factory.mktemp("hub-ggufs")

    def make(seed: int = 0) -> bytes:
        if seed not in cache:
            cache[seed] = make_tiny_gguf(folder / f"{seed}.gguf", seed=seed).read_bytes()
        return cache[seed]

    return make


@pytest.fixture
def hub(fake_hub: FakeHub, gguf_bytes: Callable[[int], bytes]) -> FakeHub:  # noqa: F811
    """Three GGUF repositories, added in an order that is no sort order (nor the reverse
    of one): most downloads tiny, other, gated; most likes other, tiny, gated; newest
    gated, tiny, other. A search that lost its sort shows them in the wrong order."""
    fake_hub.add_repo(
        REPO,
        {FILE: gguf_bytes(0), "tiny-F16.gguf": gguf_bytes(1), "README.md": b"# tiny\n"},
        downloads=1200, likes=7, last_modified="2026-01-15T00:00:00.000Z",
    )  # fmt: skip
    fake_hub.add_repo(GATED, {"gated-Q8_0.gguf": gguf_bytes(3)}, gated=True, downloads=10,
                      last_modified="2026-03-01T00:00:00.000Z")  # fmt: skip
    fake_hub.add_repo("org/other-GGUF", {"other-Q4_K_M.gguf": gguf_bytes(2)}, downloads=50,
                      likes=70, last_modified="2025-11-01T00:00:00.000Z")  # fmt: skip
    return fake_hub


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)

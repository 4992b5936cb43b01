"""A fake Hub with tiny GGUF repositories, and a download control the tests can steer.

Imported by tests/conftest.py, so every test folder can use these fixtures.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.core.hub.download import RetryPolicy
from tests.fake_hub import FakeHub, fake_hub  # noqa: F401 - re-exported fixture
from tests.gguf_fixtures import make_tiny_gguf

REPO = "org/tiny-GGUF"
GATED = "org/gated-GGUF"
FILE = "tiny-Q8_0.gguf"
FAST = RetryPolicy(attempts=4, first_wait=0.01, max_wait=0.05, read_timeout=0.5,
                   connect_timeout=2.0)  # fmt: skip


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
    fake_hub.add_repo(
        REPO,
        {FILE: gguf_bytes(0), "tiny-F16.gguf": gguf_bytes(1), "README.md": b"# tiny\n"},
        downloads=1200, likes=7,
    )  # fmt: skip
    fake_hub.add_repo("org/other-GGUF", {"other-Q4_K_M.gguf": gguf_bytes(2)}, downloads=50)
    fake_hub.add_repo(GATED, {"gated-Q8_0.gguf": gguf_bytes(3)}, gated=True, downloads=10)
    return fake_hub


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)

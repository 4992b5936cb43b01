"""Downloads of files with hostile names, and what failed downloads leave behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.hub.download import download_files
from desktop.core.hub.download_types import DownloadCancelled, DownloadPaused, DownloadTarget
from desktop.core.hub.gguf_files import HubFile
from desktop.core.hub.hub_errors import HubError, explain
from desktop.core.hub.partials import find_partial_downloads
from desktop.core.storage.file_lock import exclusive_lock
from tests.fake_hub import FakeHub, Fault
from tests.hub_fixtures import FAST, FILE, REPO, Control

LONG = "L" * 240 + "-Q8_0.gguf"  # 250 bytes: fits a file system's 255, its .part.json does not


def target(hub: FakeHub, name: str = FILE) -> DownloadTarget:
    data = hub.file_bytes(REPO, name)
    return DownloadTarget(REPO, "main", HubFile(name, len(data), hub.sha256(REPO, name)))


def locks(models: Path) -> list[Path]:
    return list((models / ".downloads").rglob("*.lock"))


@pytest.fixture
def long_name_hub(hub: FakeHub, gguf_bytes) -> FakeHub:
    hub.add_repo(REPO, {FILE: gguf_bytes(0), LONG: gguf_bytes(1)}, downloads=1200)
    return hub


def test_a_name_too_long_for_the_file_system_is_said_before_any_byte(
    long_name_hub: FakeHub, models_dir: Path
) -> None:
    with pytest.raises(HubError) as caught:
        download_files([target(long_name_hub, LONG)], models_dir, Control(), policy=FAST)
    message = str(caught.value)
    assert "is too long for this computer's file system (250 bytes; at most 227" in message
    assert "Pick another file" in message and "Import GGUF under a shorter name" in message
    assert caught.value.retryable is False
    assert not [r for r in long_name_hub.requests if r.method == "GET"]  # nothing fetched
    assert not locks(models_dir)


def test_cli_download_of_a_too_long_name_is_one_error_line(
    long_name_hub: FakeHub, tmp_path: Path
) -> None:
    env = {**os.environ, "DEEPDIVE_HOME": str(tmp_path), "HF_ENDPOINT": long_name_hub.endpoint}
    done = subprocess.run(
        [sys.executable, "-m", "desktop", "models", "download", REPO, LONG, "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "too long for this computer's file system" in errors[0]


def test_a_path_too_long_at_write_time_is_a_sentence_too() -> None:
    exc = OSError(36, "File name too long", "/m/" + "x" * 300)
    error = explain(exc, "m.gguf")
    assert "too long for this computer's file system" in str(error)
    assert "a models folder with a shorter path" in str(error)
    assert error.retryable is False


def test_a_finished_download_leaves_no_lock(hub: FakeHub, models_dir: Path) -> None:
    download_files([target(hub)], models_dir, Control(), policy=FAST)
    assert locks(models_dir) == []


@pytest.mark.parametrize("how", ["cancelled", "paused", "damaged"])
def test_a_failed_download_leaves_no_lock(hub: FakeHub, models_dir: Path, how: str) -> None:
    if how == "damaged":
        hub.set_fault(REPO, FILE, Fault(flip_byte_at=100))
    control = {"cancelled": Control(cancel_at=1), "paused": Control(pause_at=1)}.get(how)
    raised = {"cancelled": DownloadCancelled, "paused": DownloadPaused}.get(how, HubError)
    with pytest.raises(raised):
        download_files([target(hub)], models_dir, control or Control(), policy=FAST)
    assert locks(models_dir) == []
    hub.set_fault(REPO, FILE, Fault())
    assert download_files([target(hub)], models_dir, Control(), policy=FAST)[0].exists()


def test_a_lock_left_by_a_killed_process_is_cleaned_up(models_dir: Path) -> None:
    stale = models_dir / ".downloads" / "org" / "x" / "m.gguf.lock"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    held = models_dir / ".downloads" / "org" / "y" / "n.gguf.lock"
    with exclusive_lock(held):  # a download running in another window right now
        assert find_partial_downloads(models_dir) == []
        assert not stale.exists()
        assert held.exists()
    assert not held.exists()  # released: removed


def test_a_lock_removed_by_its_holder_is_not_shared(tmp_path: Path) -> None:
    """A taker that opened the file just before its holder removed it must not believe it
    holds the lock while a third process takes the new file."""
    from desktop.core.storage import file_lock

    path = tmp_path / "m.lock"
    opened: list[int] = []
    real_open = os.open

    def open_then_lose_the_race(p: object, flags: int, mode: int = 0o777) -> int:
        fd = real_open(p, flags, mode)  # the holder removes the file right after this open
        if not opened:
            opened.append(fd)
            os.unlink(path)
        return fd

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(file_lock.os, "open", open_then_lose_the_race)
        with exclusive_lock(path):
            assert path.exists()  # it locked the file that has the name, not the orphan
            with pytest.raises(file_lock.AlreadyLocked), exclusive_lock(path):
                pass
    assert opened and not path.exists()

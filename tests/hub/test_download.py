"""Downloads against the fake Hub through the real huggingface_hub client: every fault
ends with a verified file or a clear error, and never with a half file in the library."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from desktop.core.hub.download import download_files
from desktop.core.hub.download_types import DownloadCancelled, DownloadPaused, DownloadTarget
from desktop.core.hub.gguf_files import HubFile
from desktop.core.hub.hub_errors import HubError
from desktop.core.hub.partials import find_partial_downloads
from desktop.core.models.library import scan_library
from tests.fake_hub import FakeHub, Fault
from tests.hub_fixtures import FAST, FILE, GATED, REPO, Control, assert_says, fill_disk_after


def target(hub: FakeHub, repo: str = REPO, name: str = FILE, sha: bool = True) -> DownloadTarget:
    data = hub.file_bytes(repo, name)
    return DownloadTarget(repo, "main", HubFile(name, len(data), hub.sha256(repo, name) if sha
                                                else None))  # fmt: skip


def download(hub: FakeHub, models: Path, control: Control | None = None, **kw) -> Path:
    t = kw.pop("target", None) or target(hub)
    return download_files([t], models, control or Control(), policy=FAST, **kw)[0]


def gets(hub: FakeHub) -> list[str]:
    """The Range header of every byte-serving GET ('' for a whole-file GET)."""
    return [
        r.headers.get("range", r.headers.get("Range", ""))
        for r in hub.requests
        if r.method == "GET" and "/resolve/" not in r.path and "/api/" not in r.path
    ]


def assert_library_clean(models: Path, expect: list[str]) -> None:
    assert sorted(e.path.name for e in scan_library([models])) == sorted(expect)


def test_download_lands_verified_in_the_library(hub: FakeHub, models_dir: Path) -> None:
    control = Control()
    path = download(hub, models_dir, control)
    assert path == models_dir / REPO / FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hub.sha256(REPO, FILE)
    assert control.reports[-1] == (path.stat().st_size,) * 2
    assert "Verifying…" in control.statuses
    assert_library_clean(models_dir, [FILE])
    assert not list((models_dir / ".downloads").rglob("*.part*"))


def test_sha256_comes_from_the_hub_when_the_listing_lacks_it(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(flip_byte_at=100))
    with pytest.raises(HubError) as caught:
        download(hub, models_dir, target=target(hub, sha=False))
    assert caught.value.kind == "corrupt"  # the HEAD's X-Linked-Etag was used


@pytest.mark.parametrize("offsets", [[1], [4096, 65_536], [100_000, 100_001, 200_000]])
def test_dropped_connections_resume_with_range(hub, models_dir, offsets: list[int]) -> None:
    hub.set_fault(REPO, FILE, Fault(drop_at=list(offsets)))
    path = download(hub, models_dir)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hub.sha256(REPO, FILE)
    ranges = gets(hub)
    assert ranges[0] == "" and len(ranges) == len(offsets) + 1
    assert all(r.startswith("bytes=") for r in ranges[1:])  # resumed, not restarted


def test_a_stall_is_a_dropped_connection(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(stall_at=50_000, stall_seconds=2.0))
    path = download(hub, models_dir)  # read timeout 0.5 s: gives up on the stall, resumes
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hub.sha256(REPO, FILE)
    assert len(gets(hub)) >= 2


def test_a_server_that_ignores_range_restarts_cleanly(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(drop_at=[70_000], ignore_range=True))
    path = download(hub, models_dir)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hub.sha256(REPO, FILE)


def test_one_byte_short_is_a_clear_error_and_no_model(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(short_by=1))
    control = Control()
    with pytest.raises(HubError) as caught:
        download(hub, models_dir, control)
    assert caught.value.kind == "server" and caught.value.retryable  # worth trying later
    # one retry after the first (long) attempt, then attempts-1 more that bring nothing
    assert sum("Retrying" in s for s in control.statuses) == FAST.attempts
    assert_library_clean(models_dir, [])
    partials = find_partial_downloads(models_dir)  # kept, to resume when the server heals
    assert len(partials) == 1 and partials[0].have == len(hub.file_bytes(REPO, FILE)) - 1


def test_flipped_byte_is_rejected_and_deleted(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(flip_byte_at=12_345))
    with pytest.raises(HubError) as caught:
        download(hub, models_dir)
    assert caught.value.kind == "corrupt" and "checksum" in str(caught.value)
    assert_library_clean(models_dir, [])
    assert not list(models_dir.rglob("*.part"))
    assert find_partial_downloads(models_dir) == []


def test_gated_needs_a_token(hub, models_dir) -> None:
    gated = target(hub, GATED, "gated-Q8_0.gguf")
    with pytest.raises(HubError) as caught:
        download(hub, models_dir, target=gated)
    assert caught.value.kind == "gated"
    assert_says(str(caught.value), "gated")
    assert_library_clean(models_dir, [])
    path = download(hub, models_dir, target=gated, token=hub.token)
    assert path.read_bytes() == hub.file_bytes(GATED, "gated-Q8_0.gguf")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(status=404), "not_found"),  # EntryNotFound: the file is gone
        (Fault(status=404, error_code=""), "not_found"),  # a bare 404
        (Fault(status=401, error_code=""), "unauthorized"),  # not gated: the token
        (Fault(status=403, error_code=""), "unauthorized"),
        (Fault(status=500), "server"),
        (Fault(status=503), "server"),
    ],
    ids=["404-entry", "404", "401", "403", "500", "503"],
)
def test_http_errors_are_clear(hub, models_dir, fault: Fault, kind: str) -> None:
    hub.set_fault(REPO, FILE, fault)
    with pytest.raises(HubError) as caught:
        download(hub, models_dir)
    assert caught.value.kind == kind
    assert_says(str(caught.value), kind)
    assert FILE in str(caught.value)  # which file
    assert caught.value.retryable == (kind == "server")  # worth a Resume later, or not
    assert_library_clean(models_dir, [])


def test_a_passing_server_error_is_retried(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(status=500, status_times=2))
    assert download(hub, models_dir).exists()


def test_offline_is_said_quickly(models_dir, monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    t = DownloadTarget(REPO, "main", HubFile(FILE, 1000, None))
    with pytest.raises(HubError) as caught:
        download_files([t], models_dir, Control(), policy=FAST)
    assert caught.value.kind == "offline"
    assert_says(str(caught.value), "offline")


def test_offline_mode_downloads_nothing_and_says_how_to_leave_it(
    hub, models_dir, monkeypatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError) as caught:
        download(hub, models_dir)
    assert caught.value.kind == "offline" and not caught.value.retryable
    assert_says(str(caught.value), "offline_mode")
    assert hub.requests == [] and not (models_dir / ".downloads").exists()


def test_a_disk_that_fills_up_mid_download_keeps_the_part_to_resume(
    hub, models_dir, monkeypatch
) -> None:
    size = len(hub.file_bytes(REPO, FILE))
    with monkeypatch.context() as disk:
        fill_disk_after(disk, size // 2)
        control = Control()
        with pytest.raises(HubError) as caught:
            download(hub, models_dir, control)
    assert caught.value.kind == "disk" and not caught.value.retryable  # no retry loop
    assert_says(str(caught.value), "disk")
    assert not any("Retrying" in s for s in control.statuses)
    assert_library_clean(models_dir, [])
    (partial,) = find_partial_downloads(models_dir)  # what fitted is kept ...
    assert 0 < partial.have <= size // 2
    path = download(hub, models_dir)  # ... and space freed, the download resumes
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hub.sha256(REPO, FILE)
    assert gets(hub)[-1] == f"bytes={partial.have}-"


def test_pause_keeps_the_part_and_resume_finishes(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(drop_at=[30_000]))  # small first piece, then pause
    with pytest.raises(DownloadPaused):
        download(hub, models_dir, Control(pause_at=1))
    partials = find_partial_downloads(models_dir)
    assert len(partials) == 1 and partials[0].have > 0
    assert partials[0].note.sha256 == hub.sha256(REPO, FILE)
    assert_library_clean(models_dir, [])
    path = download(hub, models_dir, target=partials[0].note.targets()[0])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hub.sha256(REPO, FILE)
    assert gets(hub)[-1] == f"bytes={partials[0].have}-"
    assert find_partial_downloads(models_dir) == []


def test_cancel_deletes_the_part(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(drop_at=[30_000]))
    with pytest.raises(DownloadCancelled):
        download(hub, models_dir, Control(cancel_at=1))
    assert not list(models_dir.rglob("*.part")) and find_partial_downloads(models_dir) == []


def test_not_enough_disk_space_stops_before_the_first_byte(hub, models_dir, monkeypatch) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(HubError) as caught:
        download(hub, models_dir)
    assert caught.value.kind == "disk"
    assert_says(str(caught.value), "no_space")
    assert gets(hub) == []


def test_leftovers_without_a_note_are_cleaned_up(models_dir) -> None:
    stray = models_dir / ".downloads" / "org" / "x" / "m.gguf.part"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"GGUF....")
    bad_note = stray.with_name("n.gguf.part.json")
    bad_note.write_text("{not json")
    assert find_partial_downloads(models_dir) == []
    assert not stray.exists() and not bad_note.exists()


@pytest.mark.parametrize(("repo", "name"), [(REPO, "../../../x.gguf"), ("../../x", "y.gguf"),
                                           ("/abs/repo", "y.gguf")])  # fmt: skip
def test_unsafe_names_are_refused(hub, models_dir, repo: str, name: str) -> None:
    evil = DownloadTarget(repo, "main", HubFile(name, 10, None))
    with pytest.raises(HubError, match="unsafe"):
        download_files([evil], models_dir, Control(), policy=FAST)


def test_a_stale_partial_of_a_changed_file_starts_over(hub, models_dir) -> None:
    hub.set_fault(REPO, FILE, Fault(drop_at=[30_000]))
    with pytest.raises(DownloadPaused):
        download(hub, models_dir, Control(pause_at=1))
    old = target(hub)
    stale = DownloadTarget(REPO, "main", HubFile(FILE, old.file.size, "0" * 64))
    stale_note = old.note_path(models_dir)
    stale_note.write_text(stale_note.read_text().replace(old.file.sha256 or "", "0" * 64))
    path = download(hub, models_dir)  # the Hub's sha256 differs from the note's: restart
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hub.sha256(REPO, FILE)
    assert gets(hub)[-1] == ""  # from the first byte, not resumed onto stale bytes
    assert stale.file.sha256 != hub.sha256(REPO, FILE)


def test_two_downloads_of_one_model_do_not_share_a_part(hub, models_dir) -> None:
    from desktop.core.storage.file_lock import exclusive_lock

    t = target(hub)
    lock = models_dir / ".downloads" / REPO / (FILE + ".lock")
    with exclusive_lock(lock), pytest.raises(HubError, match="already being downloaded"):
        download(hub, models_dir, target=t)
    assert download(hub, models_dir, target=t).exists()  # free again afterwards


SPLIT = ("big-Q8_0-00001-of-00003.gguf", "big-Q8_0-00002-of-00003.gguf",
         "big-Q8_0-00003-of-00003.gguf")  # fmt: skip


@pytest.fixture
def split_repo(hub: FakeHub, gguf_bytes) -> list[DownloadTarget]:
    data = gguf_bytes(5)
    thirds = [data[: len(data) // 3], data[len(data) // 3 : 2 * len(data) // 3],
              data[2 * len(data) // 3 :]]  # fmt: skip
    hub.add_repo("org/split-GGUF", dict(zip(SPLIT, thirds, strict=True)))
    return [target(hub, "org/split-GGUF", name) for name in SPLIT]


def test_split_model_appears_only_when_every_part_passed(hub, models_dir, split_repo) -> None:
    hub.set_fault("org/split-GGUF", SPLIT[2], Fault(flip_byte_at=10))
    with pytest.raises(HubError, match="checksum"):
        download_files(split_repo, models_dir, Control(), policy=FAST)
    # the two good parts passed, yet none of the three is in the library
    assert not (models_dir / "org" / "split-GGUF").exists()
    assert [p.name for p in models_dir.rglob("*.gguf")] == []
    assert_library_clean(models_dir, [])
    (partial,) = find_partial_downloads(models_dir)  # the parts that passed are kept
    assert partial.have == split_repo[0].file.size + split_repo[1].file.size
    hub.set_fault("org/split-GGUF", SPLIT[2], Fault())
    fetched_before = len(gets(hub))
    paths = download_files(split_repo, models_dir, Control(), policy=FAST)
    assert [p.name for p in paths] == list(SPLIT)
    again = [r.path for r in hub.requests if r.method == "GET" and "/cdn/" in r.path]
    assert len(gets(hub)) == fetched_before + 1 and SPLIT[2] in again[-1]  # only the bad one
    (entry,) = scan_library([models_dir])  # one model, opened by its first part
    assert entry.path.name == SPLIT[0] and entry.size == sum(t.file.size for t in split_repo)
    assert len(entry.parts) == 3


def test_cancel_mid_split_leaves_nothing(hub, models_dir, split_repo) -> None:
    first = split_repo[0].file.size
    with pytest.raises(DownloadCancelled):
        download_files(split_repo, models_dir, Control(cancel_at=first + 1), policy=FAST)
    assert_library_clean(models_dir, [])
    assert not list(models_dir.rglob("*.part")) and find_partial_downloads(models_dir) == []


def test_an_interrupted_split_resumes_whole(hub, models_dir, split_repo) -> None:
    first = split_repo[0].file.size
    with pytest.raises(DownloadPaused):
        download_files(split_repo, models_dir, Control(pause_at=first + 1), policy=FAST)
    (partial,) = find_partial_downloads(models_dir)
    assert [t.file.path for t in partial.note.targets()] == list(SPLIT)
    assert first < partial.have < partial.total
    paths = download_files(partial.note.targets(), models_dir, Control(), policy=FAST)
    assert b"".join(p.read_bytes() for p in paths) == b"".join(
        hub.file_bytes("org/split-GGUF", n) for n in SPLIT)  # fmt: skip


def test_cancel_while_verifying_publishes_nothing(hub, models_dir) -> None:
    class CancelAtVerify(Control):
        def status(self, text: str) -> None:
            super().status(text)
            if text == "Verifying…":
                self.cancel_at = 0

    with pytest.raises(DownloadCancelled):
        download(hub, models_dir, CancelAtVerify())
    assert_library_clean(models_dir, [])


def test_pause_wins_over_a_cancel_that_comes_with_it(hub, models_dir) -> None:
    with pytest.raises(DownloadPaused):  # closing the app: pause, then cancel everything
        download(hub, models_dir, Control(pause_at=1, cancel_at=1))
    assert len(find_partial_downloads(models_dir)) == 1

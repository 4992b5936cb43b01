"""Downloading a GGUF model: resumable, retried, verified, and never half-visible.

Bytes go to `<models>/.downloads/<owner>/<repo>/<file>.part`, next to a small JSON note
of what they are, so a download survives Pause, a dropped connection or a killed app and
resumes with an HTTP Range request. Only a file whose size and sha256 match the Hub's LFS
metadata is moved (fsync + os.replace) to `<models>/<owner>/<repo>/<file>`, where the
library looks. huggingface_hub provides the URLs, auth headers, metadata request, error
types and HTTP session; the byte loop is ours, because it must pause, cancel, report and
hash as it goes (hf_hub_download does none of that).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

from desktop.core.hub.endpoint import hub_endpoint, offline_mode
from desktop.core.hub.gguf_files import HubFile
from desktop.core.hub.hub_errors import HubError, explain
from desktop.core.hub.overlapped_hash import OverlappedHash

T = TypeVar("T")
CHUNK = 1 << 20
WRITEBACK_EVERY = 16 << 20
DISK_MARGIN = 64 << 20  # keep this much free after the download
DOWNLOADS_FOLDER = ".downloads"
PART_SUFFIX = ".part"
NOTE_SUFFIX = ".part.json"


class DownloadCancelled(Exception):
    """Cancelled by the user: the partial file is gone."""


class DownloadPaused(Exception):
    """Paused by the user: the partial file stays, to be resumed."""


class DownloadControl(Protocol):
    """What a running download asks its owner, at every chunk."""

    def cancelled(self) -> bool: ...
    def paused(self) -> bool: ...
    def progress(self, done: int, total: int) -> None: ...
    def status(self, text: str) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in a row that bring no new bytes
    first_wait: float = 0.5
    max_wait: float = 30.0
    read_timeout: float = 30.0  # a stall this long counts as a dropped connection
    connect_timeout: float = 15.0

    def wait(self, failures: int) -> float:
        return float(min(self.max_wait, self.first_wait * 2 ** max(0, failures - 1)))


@dataclass(frozen=True)
class DownloadTarget:
    """One file of a model download, and where it lands."""

    repo_id: str
    revision: str
    file: HubFile

    def final_path(self, models_dir: Path) -> Path:
        return models_dir / self.repo_id / self.file.path

    def part_path(self, models_dir: Path) -> Path:
        return models_dir / DOWNLOADS_FOLDER / self.repo_id / (self.file.path + PART_SUFFIX)

    def note_path(self, models_dir: Path) -> Path:
        return models_dir / DOWNLOADS_FOLDER / self.repo_id / (self.file.path + NOTE_SUFFIX)

    def discard(self, models_dir: Path) -> None:
        """Forget a partial download: its bytes and its note."""
        self.part_path(models_dir).unlink(missing_ok=True)
        self.note_path(models_dir).unlink(missing_ok=True)


def download_files(
    targets: list[DownloadTarget],
    models_dir: Path,
    control: DownloadControl,
    *,
    token: str | None = None,
    policy: RetryPolicy = RetryPolicy(),  # frozen, so sharing is safe
) -> list[Path]:
    """Download every target (the parts of one model) and return their final paths."""
    if offline_mode():
        raise HubError("Offline mode is on (HF_HUB_OFFLINE): nothing can be downloaded.", "offline")
    for target in targets:  # a repository's names must stay inside its own folder
        repo_folder = (models_dir / target.repo_id).resolve()
        if repo_folder not in target.final_path(models_dir).resolve().parents:
            raise HubError(f"Refusing the unsafe file name {target.file.path!r}.", "corrupt")
    total = sum(t.file.size for t in targets)
    need = sum(t.file.size - _part_size(t.part_path(models_dir)) for t in targets
               if not t.final_path(models_dir).exists())  # fmt: skip
    check_disk_space(models_dir, need)
    done_before = 0
    paths = []
    for target in targets:
        final = target.final_path(models_dir)
        if not final.exists():

            def report(done: int, base: int = done_before) -> None:
                control.progress(base + done, total)

            FileDownload(target, models_dir, control, report, token, policy).run()
        done_before += target.file.size
        paths.append(final)
    control.progress(total, total)
    return paths


def check_disk_space(folder: Path, need: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if need + DISK_MARGIN > free:
        from desktop.core.formatting import format_bytes

        raise HubError(
            f"Not enough disk space in {folder}: the download needs {format_bytes(need)}, "
            f"{format_bytes(free)} is free.",
            "disk",
        )


@dataclass(frozen=True)
class PartNote:
    """What a .part file is, written before its first byte: enough to resume or discard."""

    repo_id: str
    revision: str
    path: str
    size: int
    sha256: str | None

    def target(self) -> DownloadTarget:
        return DownloadTarget(
            self.repo_id, self.revision, HubFile(self.path, self.size, self.sha256)
        )


class FileDownload:
    def __init__(
        self,
        target: DownloadTarget,
        models_dir: Path,
        control: DownloadControl,
        report: Callable[[int], None],
        token: str | None,
        policy: RetryPolicy,
    ) -> None:
        self.target, self.control, self.report = target, control, report
        self.token, self.policy = token, policy
        self.models_dir = models_dir
        self.final = target.final_path(models_dir)
        self.part = target.part_path(models_dir)
        self.note = target.note_path(models_dir)
        self.have = 0  # bytes in the part file, all of them in `hasher`
        self.hasher = OverlappedHash()
        self._flushed = 0  # bytes handed to the OS for writing back

    def run(self) -> None:
        try:
            self._run()
        except DownloadCancelled:
            self.discard()
            raise
        except (DownloadPaused, HubError):
            raise
        except Exception as exc:  # a clear message, the part kept for resuming
            raise explain(exc, self.target.file.path) from exc
        finally:
            self.hasher.close()

    def discard(self) -> None:
        self.target.discard(self.models_dir)

    def _run(self) -> None:
        from huggingface_hub import get_hf_file_metadata, hf_hub_url

        file = self.target.file
        url = hf_hub_url(
            self.target.repo_id, file.path, revision=self.target.revision, endpoint=hub_endpoint()
        )
        self.control.status("Asking the Hub…")
        meta = self._retrying(lambda: get_hf_file_metadata(url, token=self.token))
        expected_sha = file.sha256 or _sha256_etag(meta.etag)
        size = file.size if file.size else int(meta.size or 0)
        self._write_note(PartNote(self.target.repo_id, self.target.revision, file.path, size,
                                  expected_sha))  # fmt: skip
        self._resume_hash(size)
        failures = 0
        while self.have < size:
            self._check_controls()
            before = self.have
            try:
                self._fetch(meta.location, size)
            except HubError as exc:
                if not exc.retryable:
                    raise
                failures = 0 if self.have > before else failures + 1
                if failures >= self.policy.attempts:
                    raise
                self._wait_before_retry(failures, exc)
        self.control.status("Verifying…")
        self._verify(size, expected_sha)
        self._publish()

    # ---- the byte loop ----------------------------------------------------------

    def _fetch(self, location: str, size: int) -> None:
        """One GET from `self.have` on, appending to the part and the hash as bytes arrive.
        Network trouble → a retryable HubError, with `self.have` as far as it got."""
        import httpx2
        from huggingface_hub import get_session, hf_raise_for_status
        from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

        headers = build_hf_headers(token=self.token) if _same_host(location) else {}
        headers["Accept-Encoding"] = "identity"  # sizes and offsets are of the real bytes
        if self.have:
            headers["Range"] = f"bytes={self.have}-"
        timeout = httpx2.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout)
        self.control.status("Downloading…")
        try:
            with get_session().stream(
                "GET", location, headers=headers, timeout=timeout, follow_redirects=True
            ) as response:
                if response.status_code == 416:  # our part is longer than the file
                    self._restart()
                    return
                hf_raise_for_status(response)
                if self.have and response.status_code != 206:  # the server ignored Range
                    self._restart()
                with self.part.open("r+b" if self.have else "wb") as out:
                    out.seek(self.have)
                    out.truncate()
                    for chunk in response.iter_raw():  # as it arrives: live progress
                        if self.have + len(chunk) > size:
                            raise HubError(
                                "The server sent more bytes than the file has.", "corrupt"
                            )
                        out.write(chunk)
                        self.hasher.update(chunk)
                        self.have += len(chunk)
                        self.report(self.have)
                        self._check_controls()
                        if self.have - self._flushed >= WRITEBACK_EVERY:
                            self._start_writeback(out)
        except (httpx2.TransportError, httpx2.StreamError) as exc:
            if self.have >= size:
                return  # the end arrived; only the goodbye broke
            error = explain(exc, self.target.file.path)
            error.kind = "server" if error.kind == "other" else error.kind
            raise error from exc
        except OSError as exc:
            raise explain(exc) from exc
        except (HubError, DownloadCancelled, DownloadPaused):
            raise
        except Exception as exc:  # HfHubHTTPError and friends
            raise explain(exc, self.target.file.path) from exc
        if self.have < size:
            raise HubError(
                f"The connection closed early at {self.have:,} of {size:,} bytes.", "server"
            )

    def _start_writeback(self, out: BinaryIO) -> None:
        """Let the OS start writing to disk now, so the fsync before publishing has little
        left to wait for (Linux: fadvise starts writeback of dirty pages, no waiting)."""
        out.flush()
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(out.fileno(), self._flushed, self.have - self._flushed,
                             os.POSIX_FADV_DONTNEED)  # fmt: skip
        self._flushed = self.have

    def _restart(self) -> None:
        self.part.unlink(missing_ok=True)
        self.hasher.close()
        self.have, self.hasher, self._flushed = 0, OverlappedHash(), 0

    def _resume_hash(self, size: int) -> None:
        """Hash what an earlier attempt left, so one pass over the bytes is enough."""
        if _part_size(self.part) > size:
            self._restart()
        self.have = self._flushed = _part_size(self.part)
        if self.have:
            self.control.status("Checking the partial download…")
            with self.part.open("rb") as f:
                while block := f.read(CHUNK * 4):
                    self.hasher.update(block)
                    self._check_controls()
        self.report(self.have)

    def _verify(self, size: int, expected: str | None) -> None:
        have, digest = self.have, self.hasher.hexdigest()
        if have != size:
            self.discard()
            raise HubError(f"The download has {have:,} bytes, the Hub says {size:,}.", "corrupt")
        if expected is not None and digest != expected:
            self.discard()
            raise HubError(
                f"{self.target.file.path} failed its checksum (sha256 {digest[:12]}…, the Hub "
                f"says {expected[:12]}…): the download was damaged and has been deleted.",
                "corrupt",
            )

    def _publish(self) -> None:
        from desktop.core.atomic_files import fsync_path

        fsync_path(self.part)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.part, self.final)
        fsync_path(self.final.parent, directory=True)
        self.note.unlink(missing_ok=True)

    # ---- helpers ----------------------------------------------------------------

    def _check_controls(self) -> None:
        if self.control.cancelled():
            raise DownloadCancelled()
        if self.control.paused():
            raise DownloadPaused()

    def _retrying(self, call: Callable[[], T]) -> T:
        for failures in range(1, self.policy.attempts + 1):
            self._check_controls()
            try:
                return call()
            except Exception as exc:
                error = explain(exc, self.target.file.path)
                if not error.retryable or failures == self.policy.attempts:
                    raise error from exc
                self._wait_before_retry(failures, error)
        raise AssertionError("unreachable")

    def _wait_before_retry(self, failures: int, error: HubError) -> None:
        wait = self.policy.wait(failures)
        self.control.status(f"{error} Retrying in {wait:.0f} s…")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:  # stay responsive to Cancel and Pause
            self._check_controls()
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _write_note(self, note: PartNote) -> None:
        from desktop.core.atomic_files import write_text_atomically

        self.part.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.note, json.dumps(asdict(note)))


def _part_size(part: Path) -> int:
    try:
        return part.stat().st_size
    except OSError:
        return 0


def _sha256_etag(etag: str | None) -> str | None:
    """The LFS etag is the file's sha256; a git etag (40 hex) is not."""
    if etag and len(etag) == 64 and all(c in "0123456789abcdef" for c in etag.lower()):
        return etag.lower()
    return None


def _same_host(url: str) -> bool:
    """Send the token only to the Hub itself, never to a CDN it redirects to."""
    from urllib.parse import urlsplit

    return urlsplit(url).netloc == urlsplit(hub_endpoint()).netloc

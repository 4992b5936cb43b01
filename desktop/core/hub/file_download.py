"""One file of a download: fetched into its `.part` with HTTP Range resumes, hashed as
the bytes arrive, and checked against the Hub's size and sha256. Publishing (moving it
into the library) is the caller's job, once every part of the model has passed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from desktop.core.hub.download_types import (
    DownloadCancelled,
    DownloadPaused,
    DownloadTarget,
    PartNote,
    RetryPolicy,
    part_size,
    read_note,
)
from desktop.core.hub.endpoint import hub_endpoint
from desktop.core.hub.hub_errors import HubError, explain
from desktop.core.hub.overlapped_hash import OverlappedHash
from desktop.core.job_state import JobState

if TYPE_CHECKING:
    from huggingface_hub import HfFileMetadata

T = TypeVar("T")
CHUNK = 1 << 20
WRITEBACK_EVERY = 16 << 20
EXPIRED_LINK = (401, 403, 410)  # from a CDN: its signed link has run out


class FileDownload:
    def __init__(
        self,
        target: DownloadTarget,
        model_parts: tuple[DownloadTarget, ...],
        models_dir: Path,
        control: JobState,
        report: Callable[[int], None],
        token: str | None,
        policy: RetryPolicy,
    ) -> None:
        self.target, self.model_parts = target, model_parts
        self.control, self.report = control, report
        self.token, self.policy = token, policy
        self.part = target.part_path(models_dir)
        self.note = target.note_path(models_dir)
        self.have = 0  # bytes in the part file, all of them in `hasher`
        self.hasher = OverlappedHash()
        self._flushed = 0  # bytes handed to the OS for writing back

    def fetch_and_verify(self) -> None:
        """Leave a complete, verified `.part`, or raise (the part kept unless damaged)."""
        try:
            self._fetch_and_verify()
        except (DownloadCancelled, DownloadPaused, HubError):
            raise
        except Exception as exc:  # one clear message; the part stays for resuming
            raise explain(exc, self.target.file.path) from exc
        finally:
            self.hasher.close()

    def _fetch_and_verify(self) -> None:
        meta = self._metadata()
        file = self.target.file
        expected_sha = file.sha256 or _sha256_etag(meta.etag)
        size = file.size or int(meta.size or 0)
        note = PartNote(self.target.repo_id, self.target.revision, file.path, size,
                        expected_sha, tuple(t.file for t in self.model_parts))  # fmt: skip
        old = read_note(self.note)
        if old is not None and (old.sha256, old.size) != (note.sha256, note.size):
            self._restart()  # the file changed on the Hub since: these bytes are stale
        self._write_note(note)
        self._resume_hash(size)
        location: str | None = meta.location
        failures = 0
        while self.have < size:
            self._check_controls()
            before = self.have
            try:
                location = location or self._metadata().location  # a fresh signed link
                self._fetch(location, size)
            except HubError as exc:
                if not exc.retryable:
                    raise
                failures = 0 if self.have > before else failures + 1
                if failures >= self.policy.attempts:
                    raise
                location = None
                self._wait_before_retry(failures, exc)
        self.control.status("Verifying…")
        self._verify(size, expected_sha)

    def _metadata(self) -> HfFileMetadata:
        from huggingface_hub import get_hf_file_metadata, hf_hub_url

        url = hf_hub_url(self.target.repo_id, self.target.file.path,
                         revision=self.target.revision, endpoint=hub_endpoint())  # fmt: skip
        self.control.status("Asking the Hub…")
        return self._retrying(lambda: get_hf_file_metadata(url, token=self.token))

    # ---- the byte loop ----------------------------------------------------------

    def _fetch(self, location: str, size: int) -> None:
        """One GET from `self.have` on, appending to the part and the hash as bytes arrive.
        Network trouble → a retryable HubError, with `self.have` as far as it got."""
        import httpx2
        from huggingface_hub import get_session, hf_raise_for_status
        from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

        hub = _same_host(location)
        headers = build_hf_headers(token=self.token) if hub else {}
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
                if not hub and response.status_code in EXPIRED_LINK:
                    raise HubError("The download link expired; asking for a new one.", "server")
                hf_raise_for_status(response)
                if self.have and response.status_code != 206:  # the server ignored Range
                    self._restart()
                with self.part.open("r+b" if self.have else "wb") as out:
                    out.seek(self.have)
                    out.truncate()
                    for chunk in response.iter_raw():  # as it arrives: live progress
                        self._append(out, chunk, size)
                    self._start_writeback(out)  # the tail too, while the hash catches up
        except (HubError, DownloadCancelled, DownloadPaused):
            raise
        except (httpx2.TransportError, httpx2.StreamError) as exc:
            if self.have >= size:
                return  # the end arrived; only the goodbye broke
            raise explain(exc, self.target.file.path) from exc
        except Exception as exc:  # HfHubHTTPError (an OSError too), a full disk, …
            raise explain(exc, self.target.file.path) from exc
        if self.have < size:
            raise HubError(
                f"The connection closed early at {self.have:,} of {size:,} bytes.", "server"
            )

    def _append(self, out: BinaryIO, chunk: bytes, size: int) -> None:
        if self.have + len(chunk) > size:
            raise HubError("The server sent more bytes than the file has.", "corrupt")
        out.write(chunk)
        self.hasher.update(chunk)
        self.have += len(chunk)
        self.report(self.have)
        self._check_controls()
        if self.have - self._flushed >= WRITEBACK_EVERY:
            self._start_writeback(out)

    def _start_writeback(self, out: BinaryIO) -> None:
        """Let the OS start writing to disk now, so the fsync before publishing has little
        left to wait for; the hasher's thread asks it, off this loop (overlapped_hash)."""
        out.flush()
        self.hasher.write_back(out.fileno(), self._flushed, self.have - self._flushed)
        self._flushed = self.have

    def _restart(self) -> None:
        self.part.unlink(missing_ok=True)
        self.hasher.close()
        self.have, self.hasher, self._flushed = 0, OverlappedHash(), 0

    def _resume_hash(self, size: int) -> None:
        """Hash what an earlier attempt left, so one pass over the bytes is enough."""
        if part_size(self.part) > size:
            self._restart()
        self.have = self._flushed = part_size(self.part)
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
            self._discard()
            raise HubError(f"The download has {have:,} bytes, the Hub says {size:,}.", "corrupt")
        if expected is not None and digest != expected:
            self._discard()
            raise HubError(
                f"{self.target.file.path} failed its checksum (sha256 {digest[:12]}…, the Hub "
                f"says {expected[:12]}…): the download was damaged and has been deleted.",
                "corrupt",
            )

    # ---- helpers ----------------------------------------------------------------

    def _discard(self) -> None:
        self.part.unlink(missing_ok=True)
        self.note.unlink(missing_ok=True)

    def _check_controls(self) -> None:
        # Pause first: closing the app pauses, and a cancel that arrives with it must not
        # throw away what is on disk.
        if self.control.paused():
            raise DownloadPaused()
        if self.control.cancelled():
            raise DownloadCancelled()

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
        self.control.status(f"{error} Retrying in {wait:.1f} s…")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:  # stay responsive to Cancel and Pause
            self._check_controls()
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _write_note(self, note: PartNote) -> None:
        from desktop.core.storage.atomic_files import write_text_atomically

        self.part.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.note, json.dumps(asdict(note)))


def _sha256_etag(etag: str | None) -> str | None:
    """The LFS etag is the file's sha256; a git etag (40 hex) is not."""
    if etag and len(etag) == 64 and all(c in "0123456789abcdef" for c in etag.lower()):
        return etag.lower()
    return None


def _same_host(url: str) -> bool:
    """Send the token only to the Hub itself, never to a CDN it redirects to."""
    from urllib.parse import urlsplit

    return urlsplit(url).netloc == urlsplit(hub_endpoint()).netloc

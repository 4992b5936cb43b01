"""One clear sentence for everything that can go wrong talking to the Hub."""

from __future__ import annotations

import errno
from typing import Literal

ErrorKind = Literal[
    "gated", "unauthorized", "not_found", "offline", "server", "disk", "corrupt", "other"
]


class HubError(Exception):
    """A Hub failure the user can act on; `kind` lets the GUI offer the right next step."""

    def __init__(
        self, message: str, kind: ErrorKind = "other", *, retryable: bool | None = None
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        # By default a network or server trouble may pass; offline *mode* never does.
        self.retryable = kind in ("offline", "server") if retryable is None else retryable


def explain(exc: BaseException, what: str = "") -> HubError:
    """Turn a huggingface_hub / httpx2 exception into a HubError with a useful message."""
    if isinstance(exc, HubError):
        return exc
    import httpx2
    from huggingface_hub import errors

    subject = f" {what}" if what else ""
    if isinstance(exc, errors.GatedRepoError):
        return HubError(
            f"{what or 'This model'} is gated: accept its licence on the Hub, then add an "
            "access token (Models → Hub token).",
            "gated",
        )
    if isinstance(exc, errors.RepositoryNotFoundError):
        return HubError(
            f"Repository{subject} not found on the Hub: check its name; if it is private, "
            "add an access token (Models → Hub token…).",
            "not_found",
        )
    if isinstance(exc, errors.RevisionNotFoundError | errors.EntryNotFoundError):
        return HubError(
            f"File{subject} not found on the Hub: it may have been renamed or removed; "
            "list the repository's files again.",
            "not_found",
        )
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return HubError(
            "Offline mode is on (HF_HUB_OFFLINE): the Hub is not contacted. To search or "
            "download, start again without HF_HUB_OFFLINE.",
            "offline",
            retryable=False,
        )
    if isinstance(exc, errors.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            return HubError(
                f"The Hub refused access{subject} ({status}): check your access token.",
                "unauthorized",
            )
        if status == 404:
            return HubError(
                f"Not found on the Hub{subject} (404): check the name, or list the "
                "repository's files again.",
                "not_found",
            )
        if status >= 500 or status in (408, 429):
            return HubError(
                f"The Hub had a problem{subject} ({status}); try again in a while.", "server"
            )
        return HubError(f"The Hub answered {status}{subject}.", "other")
    if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout):
        return HubError(
            "Cannot reach the Hugging Face Hub: check the internet connection.", "offline"
        )
    if isinstance(exc, httpx2.TransportError):
        # Connected, then cut off or stalled: a passing fault, worth retrying.
        return HubError(f"The connection to the Hub broke{subject}: {exc}.", "server")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return HubError("The disk is full: free some space and resume the download.", "disk")
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return HubError(
            f"The file name{subject} is too long for this computer's file system (with the "
            "models folder's path): pick another file, or a models folder with a shorter path.",
            "disk",
            retryable=False,
        )
    if isinstance(exc, OSError) and exc.filename and exc.strerror:  # the file system's
        return HubError(f"Cannot write the download: {exc.strerror} ({exc.filename}).", "disk")
    return HubError(f"{type(exc).__name__}: {exc}", "other")

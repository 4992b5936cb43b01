"""Which Hub to talk to: `HF_ENDPOINT` as it is *now* (huggingface_hub reads it once, at
import), so a test or a user can point the app at a mirror or a fake Hub at any time."""

from __future__ import annotations

import os

DEFAULT_ENDPOINT = "https://huggingface.co"
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                   "all_proxy")  # fmt: skip


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def ensure_reachable(timeout: float = 3.0) -> None:
    """Fail in a moment, not after huggingface_hub's ~20 s of retries, when the Hub's host
    cannot even be connected to (no network, DNS failure, a mirror that is down)."""
    import socket
    from urllib.parse import urlsplit

    from desktop.core.hub.hub_errors import HubError

    if any(os.environ.get(n) for n in PROXY_VARIABLES):
        return  # only the proxy is reachable directly; let the HTTP client go through it
    parts = urlsplit(hub_endpoint())
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), timeout=timeout).close()
    except OSError as exc:
        raise HubError(
            f"Cannot reach {parts.hostname}: check the internet connection ({exc}).", "offline"
        ) from exc

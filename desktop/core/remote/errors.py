"""One sentence for each way a remote server can fail: a refused key, an unknown model, a
rate limit (with its wait), a server error or no server at all, and a reply cut short."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

ErrorKind = Literal["key", "model", "rate", "server", "unreachable", "cut", "request"]
MAX_QUOTED = 240  # the server's own words, shortened


class RemoteError(Exception):
    """A remote request failed; `str()` is a sentence for the user, `kind` what to offer
    (a new key, another model, a retry after `retry_after` seconds)."""

    def __init__(self, message: str, kind: ErrorKind, *, status: int = 0,
                 retry_after: float | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.status = status
        self.retry_after = retry_after


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def server_message(body: bytes | str) -> str:
    """The `error.message` of an OpenAI-style error body, or its text, shortened."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            error = error.get("message") or error.get("detail") or ""
        text = str(error or data.get("message") or data.get("detail") or "")
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Retry-After as seconds (it may be a number or an HTTP date)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _wait_words(seconds: float) -> str:
    if seconds < 1.5:
        return "a second"
    if seconds < 90:
        return f"{round(seconds)} seconds"
    return f"{round(seconds / 60)} minutes"


def http_error(
    status: int, headers: Mapping[str, str], body: bytes | str, url: str, model: str = ""
) -> RemoteError:
    host = host_of(url)
    said = server_message(body)
    quoted = f" It said: “{said}”" if said else ""
    if status == 401:
        return RemoteError(
            f"{host} refused the API key (401). Check the key saved for this "
            f"server, or paste a new one.{quoted}",
            "key",
            status=status,
        )
    if status == 403:
        return RemoteError(
            f"{host} does not allow this key to do that (403): the key may lack "
            f"access to this model, or credit.{quoted}",
            "key",
            status=status,
        )
    if status == 404:
        if model and "model" in said.lower():  # Ollama, vLLM, OpenAI: "model … not found"
            return RemoteError(
                f"{host} does not know the model “{model}” (404). Pick one "
                f"from its model list.{quoted}",
                "model",
                status=status,
            )
        path = urlsplit(url).path
        return RemoteError(
            f"{host} has nothing at {path} (404): check the base URL (it "
            f"usually ends in /v1).{quoted}",
            "request",
            status=status,
        )
    if status == 429:
        wait = retry_after_seconds(headers)
        when = (
            f"try again in {_wait_words(wait)}"
            if wait is not None
            else "wait a little and try again"
        )
        return RemoteError(
            f"{host} is limiting requests (429): {when}.{quoted}",
            "rate",
            status=status,
            retry_after=wait,
        )
    if status in (400, 422) and model and "model" in said.lower() and (
        "not found" in said.lower() or "does not exist" in said.lower()
        or "invalid model" in said.lower() or "unknown" in said.lower()
    ):  # fmt: skip
        return RemoteError(
            f"{host} does not know the model “{model}” ({status}). Pick one "
            f"from its model list.{quoted}",
            "model",
            status=status,
        )
    if status >= 500:
        down = status in (502, 503, 504)
        what = "is unavailable" if down else "had an internal error"
        return RemoteError(
            f"{host} {what} ({status}). Try again; if it keeps failing, the "
            f"service may be down.{quoted}",
            "server",
            status=status,
        )
    return RemoteError(f"{host} refused the request ({status}).{quoted}", "request", status=status)


def unreachable(url: str, detail: str, *, timed_out: bool = False) -> RemoteError:
    host = host_of(url)
    if timed_out:
        return RemoteError(
            f"{host} did not answer in time ({detail}). The server may be "
            "overloaded or down; try again.",
            "unreachable",
        )
    return RemoteError(
        f"Nothing answered at {host} ({detail}): the server is not running, "
        "the address is wrong, or there is no network.",
        "unreachable",
    )


def cut_short(url: str, tokens: int, detail: str = "") -> RemoteError:
    why = f" ({detail})" if detail else ""
    return RemoteError(
        f"The connection to {host_of(url)} was cut after {tokens} tokens"
        f"{why}; what came so far is kept.",
        "cut",
    )


def error_in_stream(url: str, tokens: int, message: str) -> RemoteError:
    return RemoteError(
        f"{host_of(url)} reported an error after {tokens} tokens: “{message}”; "
        "what came so far is kept.",
        "cut",
    )

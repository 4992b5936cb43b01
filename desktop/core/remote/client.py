"""A small client for OpenAI-compatible servers: the model list and streamed completions
(server-sent events), every failure turned into a RemoteError sentence.

httpx2 because the app already depends on it (huggingface_hub's HTTP library, which the
download loop uses directly): no second HTTP stack, and its streaming reads let a Stop
close the connection between two events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from desktop.core.remote.errors import RemoteError, http_error, unreachable

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 120.0  # a long prompt on a busy server can take a while to start


@dataclass(frozen=True)
class RemoteModelInfo:
    id: str
    context_length: int = 0  # 0: the server does not say
    owned_by: str = ""


class StreamInterrupted(Exception):
    """The stream ended before the reply did; `server_said` if the server sent an error."""

    def __init__(self, detail: str, server_said: str = "") -> None:
        super().__init__(detail)
        self.server_said = server_said


def context_length_of(entry: dict[str, Any]) -> int:
    """The context a model list entry reports, under any of the names servers use."""
    meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
    for value in (entry.get("context_length"), entry.get("max_model_len"),
                  entry.get("context_window"), (meta or {}).get("n_ctx_train"),
                  (entry.get("top_provider") or {}).get("context_length")):  # fmt: skip
        if isinstance(value, int) and value > 0:
            return value
    return 0


class RemoteClient:
    def __init__(self, base_url: str, api_key: str = "", *,
                 connect_timeout: float = CONNECT_TIMEOUT_S,
                 read_timeout: float = READ_TIMEOUT_S) -> None:  # fmt: skip
        import httpx2

        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "deepdive-lab"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx2.Client(
            headers=headers,
            timeout=httpx2.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=True,
            trust_env=False,  # no proxy from the environment sees the key by surprise
        )

    def close(self) -> None:
        self._http.close()

    def _url(self, endpoint: str) -> str:
        return f"{self.base_url}/{endpoint}"

    def list_models(self) -> list[RemoteModelInfo]:
        url = self._url("models")
        with _transport_errors(url):
            response = self._http.get(url)
        if response.status_code != 200:
            raise http_error(response.status_code, dict(response.headers), response.content, url)
        try:
            entries = response.json().get("data", [])
        except (ValueError, AttributeError) as exc:
            raise RemoteError(
                f"{url} did not answer with a model list: is it an OpenAI-compatible server?",
                "request",
            ) from exc
        models = [
            RemoteModelInfo(str(e["id"]), context_length_of(e), str(e.get("owned_by") or ""))
            for e in entries
            if isinstance(e, dict) and e.get("id")
        ]
        return sorted(models, key=lambda m: m.id.lower())

    def stream(
        self, endpoint: str, body: dict[str, Any], should_stop: Callable[[], bool]
    ) -> Iterator[dict[str, Any]]:
        """Each event's JSON, as it arrives. Ends quietly at `[DONE]`, at the end of the
        stream (the caller judges whether the reply was complete) or when `should_stop()`
        (the connection is closed: a server stops generating for a client that left).
        Raises RemoteError before the stream starts, StreamInterrupted during it."""
        import httpx2

        url = self._url(endpoint)
        with _transport_errors(url):
            request = self._http.build_request("POST", url, json={**body, "stream": True})
            response = self._http.send(request, stream=True)
        try:
            if response.status_code != 200:
                response.read()
                raise http_error(
                    response.status_code,
                    dict(response.headers),
                    response.content,
                    url,
                    str(body.get("model", "")),
                )
            data: list[str] = []
            try:
                for line in response.iter_lines():
                    if should_stop():
                        return
                    if line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
                    elif line == "" and data:
                        payload, data = "\n".join(data), []
                        if payload.strip() == "[DONE]":
                            return
                        yield self._event(payload)
                    # other lines: "event:", "id:", ": keep-alive comments" - nothing to do
                if data and "\n".join(data).strip() != "[DONE]":
                    yield self._event("\n".join(data))
            except (httpx2.TransportError, httpx2.StreamError) as exc:
                raise StreamInterrupted(
                    f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                ) from exc
        finally:
            response.close()

    @staticmethod
    def _event(payload: str) -> dict[str, Any]:
        try:
            event = json.loads(payload)
        except ValueError as exc:
            raise StreamInterrupted(f"an event that is not JSON: {payload[:80]!r}") from exc
        if not isinstance(event, dict):
            raise StreamInterrupted(f"an event that is not an object: {payload[:80]!r}")
        error = event.get("error")
        if error:
            message = error.get("message", error) if isinstance(error, dict) else error
            raise StreamInterrupted("the server sent an error", str(message))
        return event


@contextmanager
def _transport_errors(url: str) -> Iterator[None]:
    """Connection failures before a response → RemoteError (unreachable, timed out)."""
    import httpx2

    try:
        yield
    except httpx2.TransportError as exc:
        detail = str(exc) or type(exc).__name__
        timed_out = isinstance(exc, httpx2.TimeoutException)
        raise unreachable(url, detail, timed_out=timed_out) from exc


def list_models(base_url: str, api_key: str | None = None) -> list[RemoteModelInfo]:
    """A server's models, for a model picker: the key saved for the server unless one is
    given. Blocks on the network: call it off the GUI thread. Raises RemoteError."""
    from desktop.core.remote.endpoint import normalise_base_url
    from desktop.core.remote.keys import load_key

    url = normalise_base_url(base_url)
    client = RemoteClient(url, load_key(url) if api_key is None else api_key)
    try:
        return client.list_models()
    finally:
        client.close()

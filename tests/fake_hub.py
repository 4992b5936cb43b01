"""A fake Hugging Face Hub on 127.0.0.1: tests run the *real* huggingface_hub client (and
the app's own HTTP code) against it, offline. Checked against huggingface_hub 2.4.0:

  GET  /api/models?search&filter&author&gated&pipeline_tag&sort&limit&expand&full  list_models
  GET  /api/models/{repo}[/revision/{rev}]?blobs&expand                            model_info
  GET  /api/models/{repo}/tree/{rev}[/{path}]?recursive&expand                 list_repo_tree
  POST /api/models/{repo}/paths-info/{rev}   (form: paths, expand)             get_paths_info
  GET  /api/whoami-v2, /api/agent-harnesses             whoami, the client's agent registry
  HEAD/GET /{repo}/resolve/{rev}/{file}    small files: the bytes; LFS: 302 to the CDN
  HEAD/GET /cdn/{repo}/{sha256}?filename   LFS bytes, with Range (206, 416)

The CDN is this server under the host name `localhost` (the endpoint is `127.0.0.1`): a
different origin, as on the real Hub, so the client's HEAD stops at the 302 and reads
X-Linked-Etag / X-Linked-Size, and no token goes to the CDN. With
`FakeHub(cdn_host="127.0.0.1")` the client follows the redirect and the CDN's own headers
(ETag = sha256, X-Repo-Commit) give the same metadata.

Endpoints: pass `endpoint=hub.endpoint` (HfApi, hf_hub_url, hf_hub_download). The client
reads HF_ENDPOINT once, at import, into `constants.ENDPOINT` and
`constants.HUGGINGFACE_CO_URL_TEMPLATE`: the fixture's HF_ENDPOINT serves code that reads
it at call time (the app) and subprocesses, but does not move `endpoint=None` calls;
`hub.patch_client_defaults(monkeypatch)` does (both constants: ENDPOINT alone breaks
hf_hub_url even with an explicit endpoint). HF_HOME (cache, token) is read at import too,
so tests/conftest.py sets it before anything imports the client.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, get_args
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

CHUNK = 1 << 20
LFS_MIN_SIZE = 10_000_000  # and every .gguf: what the real Hub keeps in LFS
REPO = r"(?P<repo>[^/]+(?:/[^/]+)?)"
API_RE = re.compile(
    rf"^/api/models/{REPO}(?:/(?P<op>revision|tree|paths-info)/(?P<rev>[^/]+)"
    r"(?:/(?P<sub>.+))?)?$"
)
RESOLVE_RE = re.compile(rf"^/{REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
CDN_RE = re.compile(rf"^/cdn/{REPO}/(?P<sha>[0-9a-f]{{64}})$")
# what /api/models lists without `expand` (no lastModified, no gated: as the real Hub)
LIST_FIELDS = {"id", "modelId", "likes", "trendingScore", "private", "downloads", "tags"}
LIST_FIELDS |= {"pipeline_tag", "library_name", "createdAt"}
SORTS = {"downloads", "likes", "lastModified", "createdAt", "trendingScore"}
SORT_ALIASES = {
    "last_modified": "lastModified",
    "created_at": "createdAt",
    "trending_score": "trendingScore",
}


@dataclass
class Fault:
    """What goes wrong when one file is fetched (test_fake_hub.py shows each kind)."""

    drop_at: list[int] = field(default_factory=list)  # k-th body GET closes at drop_at[k]
    stall_at: int | None = None  # the first GET passing this offset pauses there ...
    stall_seconds: float = 0.0  # ... for this long
    short_by: int = 0  # every body ends this early, under a full Content-Length
    flip_byte_at: int | None = None  # this byte is always served XOR 0xFF
    status: int | None = None  # HEAD and GET (resolve and CDN) answer this status ...
    status_times: int = -1  # ... this many times (-1: always) ...
    error_code: str | None = None  # ... with this X-Error-Code (None: the Hub's usual one
    # for the status, GatedRepo for 401/403 and EntryNotFound for 404; "": none at all)
    ignore_range: bool = False  # 200 and the whole body, whatever Range says


class Headers(dict[str, str]):
    """The headers as sent, in a plain dict that also finds names in any case."""

    def _key(self, key: Any) -> Any:
        if isinstance(key, str) and not dict.__contains__(self, key):
            return next((k for k in self if k.lower() == key.lower()), key)
        return key

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, self._key(key))

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, self._key(key))

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self, self._key(key), default)


@dataclass
class RequestRecord:
    """One request as the fake Hub received it: what tests assert on (Range, auth ...)."""

    method: str
    path: str  # path + query string
    headers: dict[str, str]


@dataclass
class _File:
    name: str
    source: bytes | Path
    size: int
    sha256: str
    lfs: bool
    oid: str  # the git blob id: of the bytes, or of the LFS pointer
    pointer_size: int = 0

    @classmethod
    def make(cls, name: str, source: bytes | Path) -> _File:
        hasher = hashlib.sha256()
        if isinstance(source, Path):  # hashed once, here: a benchmark serves 200 MB
            with source.open("rb") as f:
                while block := f.read(CHUNK):
                    hasher.update(block)
            size = source.stat().st_size
        else:
            source, size = bytes(source), len(source)
            hasher.update(source)
        sha256 = hasher.hexdigest()
        if name.endswith(".gguf") or size >= LFS_MIN_SIZE:
            pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\n"
            pointer += f"size {size}\n"
            return cls(name, source, size, sha256, True, _git_oid(pointer.encode()), len(pointer))
        data = source.read_bytes() if isinstance(source, Path) else source
        return cls(name, source, size, sha256, False, _git_oid(data))

    def entry(self, commit: str | None, date: str) -> dict[str, Any]:
        """The file as /tree and /paths-info list it (`commit`: with expand=True)."""
        out: dict[str, Any] = dict(type="file", oid=self.oid, size=self.size, path=self.name)
        if self.lfs:
            out["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": self.pointer_size}
        if commit:
            out["lastCommit"] = {"id": commit, "title": "Upload (fake Hub)", "date": date}
        return out

    def sibling(self, blobs: bool) -> dict[str, Any]:
        """The file in model_info's `siblings` (`blobs`: with files_metadata=True)."""
        if not blobs:
            return {"rfilename": self.name}
        out: dict[str, Any] = dict(rfilename=self.name, size=self.size, blobId=self.oid)
        if self.lfs:
            out["lfs"] = {
                "sha256": self.sha256,
                "size": self.size,
                "pointerSize": self.pointer_size,
            }
        return out


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class _Repo:
    id: str
    sha: str  # the commit every revision resolves to
    files: dict[str, _File]
    info: dict[str, Any]  # model_info's JSON, without siblings

    def card(self, fields: set[str] | None, blobs: bool = False) -> dict[str, Any]:
        """list_models / model_info JSON: every field, or `_id`, `id` and `fields`."""
        full = {**self.info, "siblings": [f.sibling(blobs) for f in self.files.values()]}
        return full if fields is None else {k: full[k] for k in full if k in fields | {"_id", "id"}}


@dataclass
class _FaultState:
    """A file's Fault, and how much of it has been used up."""

    fault: Fault
    gets: int = 0
    statuses: int = 0
    stalled: bool = False


class _Answer(Exception):
    """An error answer, raised from deep in a handler: status, X-Error-Code, message."""

    def __init__(self, status: int, code: str | None, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class FakeHub:
    """The fake Hub: repositories, faults, and a log of every request it was sent."""

    token: str = "hf_fake_token"

    def __init__(self, *, cdn_host: str = "localhost") -> None:
        self.cdn_host = cdn_host
        self.requests: list[RequestRecord] = []
        self._repos: dict[str, _Repo] = {}
        self._faults: dict[tuple[str, str], _FaultState] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port()}"

    def start(self) -> FakeHub:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hub = self
        serve = self._server.serve_forever
        self._thread = threading.Thread(target=serve, args=(0.05,), name="fake-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wake stalled bodies and close kept-alive connections too."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes | Path],
        *,
        downloads: int = 0,
        likes: int = 0,
        gated: bool | str = False,
        last_modified: str = "2026-01-01T00:00:00.000Z",
        tags: tuple[str, ...] = ("gguf",),
        pipeline_tag: str = "text-generation",
    ) -> None:
        """Add (or replace) a repository; `gated=True` means "manual" approval."""
        made = {name: _File.make(name, src) for name, src in files.items()}
        sha = hashlib.sha1(repo_id.encode()).hexdigest()
        info = {
            "_id": sha[:24],
            "id": repo_id,
            "modelId": repo_id,
            "author": repo_id.split("/")[0],
            "sha": sha,
            "private": False,
            "disabled": False,
            "gated": "manual" if gated is True else gated,
            "lastModified": last_modified,
            "createdAt": last_modified,
            "downloads": downloads,
            "downloadsAllTime": downloads,
            "likes": likes,
            "trendingScore": 0,
            "tags": list(tags),
            "pipeline_tag": pipeline_tag,
            "library_name": "gguf" if "gguf" in tags else None,
            "spaces": [],
            "usedStorage": sum(f.size for f in made.values()),
        }
        with self._lock:
            self._repos[repo_id] = _Repo(repo_id, sha, made, info)

    def set_fault(self, repo_id: str, filename: str, fault: Fault) -> None:
        """Replace the file's fault, its counters afresh; `Fault()` heals the file."""
        with self._lock:
            self._faults[(repo_id, filename)] = _FaultState(fault)

    def sha256(self, repo_id: str, filename: str) -> str:
        return self._repos[repo_id].files[filename].sha256

    def file_bytes(self, repo_id: str, filename: str) -> bytes:
        source = self._repos[repo_id].files[filename].source
        return source.read_bytes() if isinstance(source, Path) else source

    def file_url(self, repo_id: str, filename: str) -> str:
        return f"{self.endpoint}/{repo_id}/resolve/main/{quote(filename)}"

    def cdn_url(self, repo_id: str, filename: str) -> str:
        where = f"http://{self.cdn_host}:{self._port()}/cdn/{repo_id}"
        return f"{where}/{self.sha256(repo_id, filename)}?filename={quote(filename, safe='')}"

    def patch_client_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point huggingface_hub's `endpoint=None` defaults (fixed at import) here."""
        from huggingface_hub import constants

        template = self.endpoint + "/{repo_id}/resolve/{revision}/{filename}"
        monkeypatch.setattr(constants, "ENDPOINT", self.endpoint)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)

    # ---- for the handler ----------------------------------------------------------

    def _port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Hub is not started")
        return int(self._server.server_address[1])

    def _repo(self, repo_id: str, rev: str | None = None) -> _Repo:
        repo = self._repos.get(repo_id)
        if repo is None:
            raise _Answer(404, "RepoNotFound", "Repository not found")
        if rev is not None and rev not in ("main", repo.sha):
            raise _Answer(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return repo

    def _take_status(self, repo_id: str, name: str) -> Fault | None:
        """The status fault this request gets, if any (counted towards status_times)."""
        with self._lock:
            state = self._faults.get((repo_id, name))
            if state is None or state.fault.status is None:
                return None
            if 0 <= state.fault.status_times <= state.statuses:
                return None
            state.statuses += 1
            return state.fault

    def _plan(
        self, state: _FaultState | None, size: int, start: int, end: int
    ) -> tuple[int, int | None, int | None]:
        """One body GET of [start, end): where it stops, where it stalls, which byte flips."""
        if state is None:
            return end, None, None
        with self._lock:
            fault, limit, stall = state.fault, end, None
            if state.gets < len(fault.drop_at):
                limit = min(limit, max(start, fault.drop_at[state.gets]))
            state.gets += 1
            if fault.short_by:
                limit = min(limit, max(start, size - fault.short_by))
            at, flip = fault.stall_at, fault.flip_byte_at
            if at is not None and not state.stalled and start <= at <= limit and at < end:
                state.stalled, stall = True, at
            return limit, stall, flip if flip is not None and start <= flip < limit else None

    def _list(self, q: dict[str, list[str]]) -> list[dict[str, Any]]:
        """GET /api/models: filtered, sorted best first, cut at `limit` (no pagination:
        the client asks for `limit` and stops there)."""
        from huggingface_hub.hf_api import ExpandModelProperty_T  # what the Hub accepts

        def arg(name: str) -> str | None:
            return q.get(name, [None])[-1]

        sort, expand = arg("sort"), set(q.get("expand", []))
        sort = SORT_ALIASES.get(sort, sort)  # type: ignore[arg-type]
        if sort not in SORTS | {None} or expand - set(get_args(ExpandModelProperty_T)):
            raise _Answer(400, None, f"Invalid sort or expand: {sort}, {sorted(expand)}")
        text, author, gated, task = (arg(k) for k in ("search", "author", "gated", "pipeline_tag"))
        tags = [t for value in q.get("filter", []) for t in value.split(",")]
        with self._lock:
            found = [
                r
                for r in self._repos.values()
                if (text or "").lower() in r.id.lower()
                and all(t in r.info["tags"] for t in tags)
                and author in (None, r.info["author"])
                and gated in (None, str(bool(r.info["gated"])).lower())
                and task in (None, r.info["pipeline_tag"])
            ]
        if sort is not None:
            found.sort(key=lambda r: r.info[sort], reverse=True)
        fields = expand or (None if arg("full") == "true" else LIST_FIELDS)
        return [r.card(fields) for r in found[: int(arg("limit") or len(found))]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled body never holds up stop() or the test run
    hub: FakeHub

    def server_bind(self) -> None:  # skip HTTPServer's getfqdn(), a DNS lookup
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client going away is normal
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's pooled session expects
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def setup(self) -> None:
        super().setup()
        self.hub = self.server.hub
        with self.hub._lock:
            self.hub._connections.add(self.connection)

    def finish(self) -> None:
        with self.hub._lock:
            self.hub._connections.discard(self.connection)
        super().finish()

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # BrokenPipe, ConnectionReset, stop()
            super().handle()

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_GET

    def _dispatch(self) -> None:
        hub, url = self.hub, urlsplit(self.path)
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        with hub._lock:
            hub.requests.append(RequestRecord(self.command, self.path, Headers(self.headers)))
        q, path, files = parse_qs(url.query), url.path, self.command != "POST"
        try:
            if path == "/api/models":
                self._json(hub._list(q))
            elif path == "/api/whoami-v2":
                self._whoami()
            elif path == "/api/agent-harnesses":
                self._json({"standardEnvVars": [], "harnesses": {}})
            elif m := API_RE.match(path):
                repo = hub._repo(unquote(m["repo"]), unquote(m["rev"] or "main"))
                self._api(
                    repo, m["op"], unquote(m["sub"] or ""), form if m["op"] == "paths-info" else q
                )
            elif files and (m := RESOLVE_RE.match(path)):
                self._resolve(hub._repo(unquote(m["repo"]), unquote(m["rev"])), unquote(m["file"]))
            elif files and (m := CDN_RE.match(path)):
                self._cdn(hub._repo(unquote(m["repo"])), m["sha"], q.get("filename", [""])[0])
            else:
                raise _Answer(404, None, "Not found")
        except _Answer as answer:
            self._error(answer)
        except OSError:  # the client went away: handle() ends the connection
            raise
        except Exception as exc:
            traceback.print_exc()  # a bug in the fake: say so, loudly
            self._error(_Answer(500, None, f"fake Hub bug: {exc!r}"))

    def _api(self, repo: _Repo, op: str | None, sub: str, q: dict[str, list[str]]) -> None:
        if op in (None, "revision"):
            self._json(repo.card(set(q.get("expand", [])) or None, q.get("blobs") == ["true"]))
            return
        commit = (
            (repo.sha, repo.info["lastModified"]) if q.get("expand") == ["true"] else (None, "")
        )
        dirs = {n.rsplit("/", i)[0] for n in repo.files for i in range(1, n.count("/") + 1)}

        def entry(p: str) -> dict[str, Any]:
            if p in dirs:
                return {"type": "directory", "oid": _git_oid(p.encode()), "size": 0, "path": p}
            return repo.files[p].entry(*commit)

        if op == "paths-info":
            self._json([entry(p) for p in q.get("paths", []) if p in dirs or p in repo.files])
            return
        if sub and sub not in dirs:
            raise _Answer(404, "EntryNotFound", f"{sub} does not exist")
        prefix = sub + "/" if sub else ""
        everything = sorted(dirs) + sorted(repo.files)
        listed = [
            p
            for p in everything
            if p.startswith(prefix)
            and (q.get("recursive") == ["true"] or "/" not in p[len(prefix) :])
        ]
        self._json([entry(p) for p in listed])

    def _whoami(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {self.hub.token}":
            raise _Answer(401, None, "Invalid credentials in Authorization header")
        token = {"displayName": "fake-token", "role": "read"}
        auth = {"type": "access_token", "accessToken": token}
        self._json({"type": "user", "name": "fake-user", "fullname": "Fake User", "auth": auth})

    def _resolve(self, repo: _Repo, name: str) -> None:
        f = repo.files.get(name)
        if f is None:
            raise _Answer(
                404, "EntryNotFound", f"{name} does not exist", **{"X-Repo-Commit": repo.sha}
            )
        auth = self.headers.get("Authorization")
        if repo.info["gated"] and auth != f"Bearer {self.hub.token}":
            status, why = (
                (401, "please log in")
                if auth is None
                else (403, "you are not in the authorized list")
            )
            raise _Answer(status, "GatedRepo", f"Access to model {repo.id} is restricted: {why}.")
        self._status_fault(repo, name)
        if not f.lfs:
            self._serve(repo, f, {"X-Repo-Commit": repo.sha, "ETag": f'"{f.oid}"'})
            return
        linked = {"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(f.size)}
        where = {"Location": self.hub.cdn_url(repo.id, name), "X-Repo-Commit": repo.sha}
        self._send(302, b"", {**where, "ETag": f'"{f.sha256}"', **linked})

    def _cdn(self, repo: _Repo, sha: str, name: str) -> None:
        same = [f for f in repo.files.values() if f.sha256 == sha]
        f = next((f for f in same if f.name == name), same[0] if same else None)
        if f is None:
            raise _Answer(404, "EntryNotFound", "No such object")
        self._status_fault(repo, f.name)
        disposition = f"inline; filename*=UTF-8''{quote(f.name)}"
        self._serve(
            repo,
            f,
            {"X-Repo-Commit": repo.sha, "ETag": f'"{sha}"', "Content-Disposition": disposition},
        )

    def _status_fault(self, repo: _Repo, name: str) -> None:
        fault = self.hub._take_status(repo.id, name)
        if fault is not None and fault.status is not None:
            status, code = fault.status, fault.error_code
            if code is None:
                code = {401: "GatedRepo", 403: "GatedRepo", 404: "EntryNotFound"}.get(status)
            raise _Answer(status, code or None, f"Fault injected by the fake Hub ({status})")

    def _serve(self, repo: _Repo, f: _File, headers: dict[str, str]) -> None:
        """The file's bytes, with Range and the file's faults."""
        with self.hub._lock:
            state = self.hub._faults.get((repo.id, f.name))
        start, end, status, wanted = 0, f.size, 200, self.headers.get("Range")
        if wanted and not (state and state.fault.ignore_range):
            with contextlib.suppress(ValueError):  # a Range we do not do: the whole file
                span = _parse_range(wanted, f.size)
                if span is None:
                    raise _Answer(
                        416, None, "Range Not Satisfiable", **{"Content-Range": f"bytes */{f.size}"}
                    )
                (start, end), status = span, 206
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{f.size}"
        headers.update({"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"})
        self._head(status, end - start, headers)
        if self.command != "GET":
            return
        limit, stall, flip = self.hub._plan(state, f.size, start, end)
        source = f.source
        with source.open("rb") if isinstance(source, Path) else contextlib.nullcontext() as disk:
            pos = start
            while True:
                if pos == stall and state is not None:  # stop() ends the wait too
                    self.hub._stopping.wait(state.fault.stall_seconds)
                if pos >= limit:
                    break
                if pos == flip:
                    if disk is not None:
                        disk.seek(pos)
                    byte = disk.read(1)[0] if disk is not None else source[pos]  # type: ignore[index]
                    self.wfile.write(bytes([byte ^ 0xFF]))
                    pos += 1
                    continue
                stop = min(p for p in (limit, stall, flip) if p is not None and p > pos)
                if disk is not None:
                    self.connection.sendfile(disk, pos, stop - pos)  # zero-copy where it can
                else:
                    view = memoryview(source)  # type: ignore[arg-type]
                    for at in range(pos, stop, CHUNK):
                        self.wfile.write(view[at : min(stop, at + CHUNK)])
                pos = stop
        if limit < end:  # a deliberate drop: the client sees the connection close early
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_WR)

    def _head(self, status: int, length: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self._head(status, len(body), headers)
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any) -> None:
        self._send(200, json.dumps(obj).encode(), {"Content-Type": "application/json"})

    def _error(self, answer: _Answer) -> None:
        message = answer.message.encode("ascii", "replace").decode()  # headers are latin-1
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if answer.code:
            headers["X-Error-Code"] = answer.code
        self._send(
            answer.status, json.dumps({"error": message}).encode(), {**headers, **answer.headers}
        )


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """`bytes=N-`, `bytes=N-M` or `bytes=-K` as [start, end); None: unsatisfiable (416).
    ValueError for anything else (several ranges, junk): RFC 9110 lets a server ignore it."""
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if m is None or m[1] == m[2] == "" or (m[1] and m[2] and int(m[2]) < int(m[1])):
        raise ValueError(header)
    if m[1] == "":
        return (max(0, size - int(m[2])), size) if int(m[2]) and size else None
    start = int(m[1])
    return (start, min(size, int(m[2]) + 1) if m[2] else size) if start < size else None


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A started FakeHub, HF_ENDPOINT pointing at it; stopped afterwards."""
    hub = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    try:
        yield hub
    finally:
        hub.stop()

"""ApiServer: the stdlib's ThreadingHTTPServer on a thread of its own, serving a Runner.

Why the standard library: the API is three JSON endpoints and a server-sent-event stream;
http.server does that in a few lines with no dependency, and one thread per connection
is what lets each waiting request watch its own client. Requests run one at a time on the
runner (the engine thread in the app), in arrival order.

Loopback only unless `allow_network` (the person's explicit choice); an optional key.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer

from desktop.engine.api_server.handler import ApiHandler
from desktop.engine.api_server.jobs import Job
from desktop.engine.api_server.runner import Runner

DEFAULT_PORT = 8484
LOOPBACK = "127.0.0.1"
STOP_GRACE_S = 1.0  # how long a stop waits for requests in flight to end their answers


class ServerError(RuntimeError):
    """The server cannot start; the message is a sentence."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiServer:
    def __init__(
        self,
        runner: Runner,
        *,
        host: str = LOOPBACK,
        port: int = DEFAULT_PORT,
        api_key: str = "",
        allow_network: bool = False,
        log: Callable[[str], None] = lambda _line: None,
    ) -> None:
        if not is_loopback(host) and not allow_network:
            raise ServerError(
                f"The server listens on this computer only ({LOOPBACK}); to let "
                f"other computers reach it on {host}, allow it explicitly."
            )
        self.runner = runner
        self.host, self.port = host, port
        self.api_key = api_key
        self.log = log
        self.started_at = int(time.time())
        self.stopping = False
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._jobs: set[Job] = set()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        """The base URL clients use (with the real port when 0 asked for any free one)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def start(self) -> None:
        handler = type("BoundApiHandler", (ApiHandler,), {"api": self})
        try:
            httpd = ThreadingHTTPServer((self.host, self.port), handler)
        except OSError as exc:
            raise ServerError(
                f"Cannot listen on {self.host}:{self.port} ({exc.strerror or exc}): "
                "another program may be using the port; pick another."
            ) from exc
        httpd.daemon_threads = True  # a stuck client never keeps the app from closing
        self.port = httpd.server_address[1]
        self.stopping = False
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="api-server",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and stop every request in flight (their clients get an end),
        then close the kept-alive connections: a client's pooled connection must not go
        on reaching the model after the server was switched off."""
        self.stopping = True
        with self._lock:
            for job in self._jobs:
                job.cancelled.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None
        deadline = time.monotonic() + STOP_GRACE_S  # requests in flight write their end
        while self._jobs and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # an idle handler's read then ends at once
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def jobs_started(self, job: Job) -> None:
        with self._lock:
            self._jobs.add(job)

    def jobs_ended(self, job: Job) -> None:
        with self._lock:
            self._jobs.discard(job)

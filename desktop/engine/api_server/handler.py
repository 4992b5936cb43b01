"""The HTTP side of the API server: one thread per connection (ThreadingHTTPServer),
routing, the optional key, JSON in and out, and streaming as server-sent events in
HTTP/1.1 chunks. A request's generation runs elsewhere (jobs.py); this thread waits for
its events, writes them, and watches its client: a client that is gone (its socket reads
as closed, or a write fails) stops the generation at once."""

from __future__ import annotations

import contextlib
import hmac
import json
import queue
import select
import socket
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from desktop.core.api import api_responses as shapes
from desktop.core.api.api_requests import ApiError, chat_call, completion_call
from desktop.engine.api_server.answers import Answer, ChatAnswer, CompletionAnswer
from desktop.engine.api_server.jobs import (
    Done,
    Failed,
    Job,
    Started,
    Tokens,
    chat_prompt,
    completion_prompt,
    no_model,
    run,
    served_id,
)

if TYPE_CHECKING:
    from desktop.engine.api_server.server import ApiServer

MAX_BODY = 32 << 20  # a long conversation is a few MB of JSON; more is a mistake
WAIT_S = 0.1  # how often a waiting request looks at its client


class ClientGone(Exception):
    """The client closed its connection (or the server is stopping)."""


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; streams are chunked
    server_version = "DeepDiveLab"
    timeout = 300  # an idle keep-alive connection is let go after this
    api: ApiServer  # set on the class the server makes
    _future: Future[None] | None = None

    def setup(self) -> None:
        super().setup()
        self.api.connection_opened(self.connection)  # closed by the server's stop

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.api.connection_closed(self.connection)

    def handle(self) -> None:
        # a client that went away between two requests: nothing to answer, no traceback
        with contextlib.suppress(ConnectionResetError, BrokenPipeError, TimeoutError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        self.api.log(f"{self.address_string()} {format % args}")

    # ---- routing ---------------------------------------------------------------------

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        try:
            # Read the body first, whatever the answer: on a kept-alive connection an
            # unread body would be taken for the next request.
            raw = self._read_body() if method == "POST" else b""
            self._authorise()
            path = self.path.split("?", 1)[0].rstrip("/")
            if path in ("/v1/models", "/models") and method == "GET":
                self._models()
            elif path in ("/v1/chat/completions", "/chat/completions") and method == "POST":
                self._complete(raw, chat=True)
            elif path in ("/v1/completions", "/completions") and method == "POST":
                self._complete(raw, chat=False)
            else:
                raise ApiError(
                    404,
                    f"There is no {method} {path} here; this server has GET "
                    "/v1/models, POST /v1/chat/completions and POST "
                    "/v1/completions.",
                    code="not_found",
                )
        except ApiError as exc:
            self._json(exc.status, exc.body())
        except ClientGone:
            self.close_connection = True
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _authorise(self) -> None:
        key = self.api.api_key
        if not key:
            return
        given = self.headers.get("Authorization", "")
        token = given[7:].strip() if given[:7].lower() == "bearer " else ""
        if not hmac.compare_digest(token.encode(), key.encode()):
            raise ApiError(
                401,
                "The API key is missing or wrong: send it as 'Authorization: Bearer KEY'.",
                code="invalid_api_key",
            )

    def _models(self) -> None:
        model = self.api.runner.loaded_model
        ids = [served_id(model)] if model is not None else []
        self._json(200, shapes.models_list(ids, self.api.started_at))

    def _read_body(self) -> bytes:
        size = int(self.headers.get("Content-Length") or 0)
        if size > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, f"The request is larger than {MAX_BODY >> 20} MB.")
        return self.rfile.read(size) if size else b""

    @staticmethod
    def _json_body(raw: bytes) -> Any:
        try:
            return json.loads(raw or b"null")
        except ValueError as exc:
            raise ApiError(400, f"The request body is not JSON ({exc}).") from exc

    # ---- completions -----------------------------------------------------------------

    def _complete(self, raw: bytes, *, chat: bool) -> None:
        body = self._json_body(raw)
        model = self.api.runner.loaded_model
        if model is None:
            raise no_model()
        job = Job()
        answer: Answer
        if chat:
            call = chat_call(body)
            answer = ChatAnswer(call, served_id(model))
            top = max(1, call.top_logprobs) if call.logprobs else 0
            work = run(job, call.common, top, lambda m: chat_prompt(m, call))
            stream = call.common.stream
        else:
            text_call = completion_call(body)
            answer = CompletionAnswer(text_call, served_id(model))
            work = run(
                job, text_call.common, text_call.logprobs, lambda m: completion_prompt(m, text_call)
            )
            stream = text_call.common.stream
        self.api.jobs_started(job)
        future = self._future = self.api.runner.submit(work)
        try:
            first = self._next(job)
            if isinstance(first, Failed):
                raise first.error
            if stream:
                self._stream(job, answer)
            else:
                self._whole(job, answer)
        except ClientGone:
            job.cancelled.set()
            future.cancel()  # still queued: it never starts
            raise
        finally:
            self.api.jobs_ended(job)

    def _next(self, job: Job) -> Any:
        """The job's next event; meanwhile, watch the client (and the server stopping)."""
        while True:
            try:
                return job.events.get(timeout=WAIT_S)
            except queue.Empty:
                if self.api.stopping or self._client_gone():
                    raise ClientGone from None
                future = self._future
                if future is not None and future.done() and job.events.empty():
                    # the runner refused the work (the app closing) or it ended unheard
                    why = None if future.cancelled() else future.exception()
                    raise ApiError(503, str(why or "The request was not run."),
                                   kind="server_error") from None  # fmt: skip

    def _client_gone(self) -> bool:
        """A closed connection reads as end-of-file; a pipelined request does not."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except (BlockingIOError, InterruptedError):
            return False
        except (OSError, ValueError):
            return True

    def _whole(self, job: Job, answer: Answer) -> None:
        while True:
            event = self._next(job)
            if isinstance(event, Tokens):
                answer.events.extend(event.events)
                if isinstance(answer, ChatAnswer):
                    answer.text += "".join(e.text for e in event.events)
            elif isinstance(event, Done):
                self._json(200, answer.whole(event))
                return
            elif isinstance(event, Failed):
                raise event.error

    def _stream(self, job: Job, answer: Answer) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._send_events(answer.start())
        while True:
            event = self._next(job)
            if isinstance(event, Tokens):
                self._send_events(answer.add(event.events))
            elif isinstance(event, Done):
                self._send_events(answer.finish(event), done=True)
                return
            elif isinstance(event, Failed):
                # Headers are gone: an error event, as OpenAI sends one, then the end.
                self._send_events([event.error.body()], done=True)
                return
            elif isinstance(event, Started):
                continue

    def _send_events(self, events: list[dict[str, Any]], *, done: bool = False) -> None:
        data = "".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events)
        if done:
            data += "data: [DONE]\n\n"
        payload = data.encode("utf-8")
        chunk = f"{len(payload):x}\r\n".encode() + payload + b"\r\n" if payload else b""
        try:
            # The last event and the end of the body in one write: a client that hangs up
            # at [DONE] has then read the whole body, and its connection can be reused.
            self.wfile.write(chunk + (b"0\r\n\r\n" if done else b""))
            self.wfile.flush()
        except (TimeoutError, BrokenPipeError, ConnectionResetError, OSError) as exc:
            raise ClientGone from exc

    def _json(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except (TimeoutError, BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

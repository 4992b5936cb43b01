"""A fake OpenAI-compatible server on 127.0.0.1 for the remote client's tests: a model list,
streamed chat and text completions with logprobs, and faults on demand - a refused key
(401), an unknown model (404), a rate limit (429 with Retry-After), a server error (500),
a stream cut after N tokens, an error event mid-stream, a field it refuses (400). It
records every request (path, headers, JSON body) and whether a client left mid-stream."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    status: int = 0  # answer every completion request with this status
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int = -1  # close the connection after this many tokens (no end of stream)
    error_after: int = -1  # send an error event after this many tokens
    refuse_field: str = ""  # 400 when the request has this field


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeOpenAI:
    def __init__(
        self,
        *,
        key: str = "",
        models: tuple[str, ...] = ("fake-model",),
        tokens: tuple[str, ...] = ("Hello", ",", " world", "."),
        token_delay: float = 0.0,
        context_length: int = 0,
    ) -> None:
        self.key = key
        self.models = models
        self.tokens = tokens
        self.token_delay = token_delay
        self.context_length = context_length
        self.fault = Fault()
        self.requests: list[Recorded] = []
        self.client_left = threading.Event()
        self.tokens_sent = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._record(self, None)
                if not fake._authorised(self):
                    return
                if self.path.rstrip("/") == "/v1/models":
                    entries = [
                        {
                            "id": m,
                            "object": "model",
                            "owned_by": "fake",
                            **(
                                {"context_length": fake.context_length}
                                if fake.context_length
                                else {}
                            ),
                        }
                        for m in fake.models
                    ]
                    fake._json(self, 200, {"object": "list", "data": entries})
                else:
                    fake._json(self, 404, {"error": {"message": "no such path"}})

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size) or b"null")
                fake._record(self, body)
                if not fake._authorised(self):
                    return
                fake._complete(self, body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def bodies(self, path_end: str) -> list[Any]:
        return [r.body for r in self.requests if r.path.endswith(path_end)]

    # ---- answers ---------------------------------------------------------------------

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        self.requests.append(Recorded(handler.command, handler.path, dict(handler.headers), body))

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        if self.key and handler.headers.get("Authorization") != f"Bearer {self.key}":
            self._json(
                handler,
                401,
                {
                    "error": {
                        "message": "Invalid API key provided.",
                        "type": "invalid_request_error",
                    }
                },
            )
            return False
        return True

    @staticmethod
    def _json(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _complete(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        f = self.fault
        if f.status:
            self._json(handler, f.status, f.body or {"error": {"message": "fault"}}, f.headers)
            return
        if f.refuse_field and f.refuse_field in body:
            self._json(
                handler,
                400,
                {"error": {"message": f"Unrecognized request argument supplied: {f.refuse_field}"}},
            )
            return
        if body.get("model") not in self.models:
            self._json(
                handler,
                404,
                {
                    "error": {
                        "message": f"The model `{body.get('model')}` does not exist.",
                        "code": "model_not_found",
                    }
                },
            )
            return
        chat = handler.path.endswith("/chat/completions")
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")  # the end of the stream is the end of the body
        handler.end_headers()
        try:
            self._stream(handler, body, chat)
        except (BrokenPipeError, ConnectionResetError):
            self.client_left.set()
        handler.close_connection = True

    def _event(self, handler: BaseHTTPRequestHandler, data: Any) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        handler.wfile.write(f"data: {text}\n\n".encode())
        handler.wfile.flush()

    def _stream(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], chat: bool) -> None:
        f = self.fault
        self.tokens_sent = 0
        handler.wfile.write(b": keep-alive comment\n\n")
        for n, token in enumerate(self.tokens):
            if n == f.cut_after:
                handler.wfile.flush()
                handler.connection.shutdown(2)  # gone mid-reply: no finish, no [DONE]
                return
            if n == f.error_after:
                self._event(handler, {"error": {"message": "the model worker died"}})
                return
            time.sleep(self.token_delay)
            prob = 0.5 if n % 2 else 0.9
            if chat:
                logprobs = (
                    {
                        "content": [
                            {
                                "token": token,
                                "logprob": math.log(prob),
                                "top_logprobs": [
                                    {"token": token, "logprob": math.log(prob)},
                                    {"token": " other", "logprob": math.log(1 - prob)},
                                ],
                            }
                        ]
                    }
                    if body.get("logprobs")
                    else None
                )
                choice = {
                    "index": 0,
                    "delta": {"content": token},
                    "logprobs": logprobs,
                    "finish_reason": None,
                }
            else:
                logprobs = (
                    {
                        "tokens": [token],
                        "token_logprobs": [math.log(prob)],
                        "top_logprobs": [{token: math.log(prob), " other": math.log(1 - prob)}],
                    }
                    if body.get("logprobs")
                    else None
                )
                choice = {"index": 0, "text": token, "logprobs": logprobs, "finish_reason": None}
            self._event(handler, {"id": "x", "object": "chunk", "choices": [choice]})
            self.tokens_sent += 1
        end = {"index": 0, "finish_reason": "stop", **({"delta": {}} if chat else {"text": ""})}
        self._event(handler, {"id": "x", "choices": [end]})
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event(
                handler,
                {
                    "id": "x",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 42,
                        "completion_tokens": len(self.tokens),
                        "total_tokens": 0,
                    },
                },
            )
        self._event(handler, "[DONE]")

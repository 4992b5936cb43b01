"""Chat templates rendered in a child process with a time and a memory limit.

A chat template is Jinja code from a downloaded file. The sandbox keeps it away from
Python's internals, but a nested loop or a recursive macro can run for hours or take all
memory, and a thread cannot be stopped. A process can: the template gets 2 s and 1 GB
(Linux; elsewhere the time limit alone), then it is killed and the user is told.

One small process serves every renderer user (Chat tab, quiz, Tokens tab, command line);
it starts on first use, renders one template at a time, and ends with the app.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any

from desktop.core.chat.chat_template import ChatTemplateError, render_chat_template
from desktop.core.chat.generation import ChatMessage

TIME_LIMIT_S = 2.0
MEMORY_LIMIT_BYTES = 1 << 30


def _serve(conn: Connection, memory_limit: int) -> None:
    """The child: render requests until the pipe closes."""
    from desktop.engine.host_process import exit_with_the_app

    exit_with_the_app()
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        template, messages, options = request
        try:
            conn.send(("ok", render_chat_template(template, messages, **options)))
        except ChatTemplateError as exc:
            conn.send(("error", str(exc)))
        except MemoryError:
            conn.send(("error", "the model's chat template ran out of memory"))


class TemplateRenderer:
    """Thread-safe: renders are serialised (each takes milliseconds)."""

    def __init__(
        self, time_limit: float = TIME_LIMIT_S, memory_limit: int = MEMORY_LIMIT_BYTES
    ) -> None:
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def render(
        self,
        template: str,
        messages: Sequence[ChatMessage | Mapping[str, Any]],
        *,
        bos_token: str = "",
        eos_token: str = "",
        add_generation_prompt: bool = True,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """The prompt text, or ChatTemplateError with a sentence (never a hang)."""
        options: dict[str, Any] = {"bos_token": bos_token, "eos_token": eos_token,
                                   "add_generation_prompt": add_generation_prompt}  # fmt: skip
        if tools:  # the API server's function list (render_chat_template's `tools`)
            options["tools"] = [dict(t) for t in tools]
        with self._lock:
            conn = self._connection()
            try:
                conn.send((template, list(messages), options))
                if conn.poll(self.time_limit):
                    status, text = conn.recv()
                    if status == "ok":
                        return str(text)
                    raise ChatTemplateError(str(text))
            except (EOFError, OSError, BrokenPipeError):
                self._stop()
                raise ChatTemplateError(
                    "the model's chat template crashed its renderer (it may need more than "
                    f"{self.memory_limit >> 20} MB)"
                ) from None
            self._stop()
            raise ChatTemplateError(
                f"the model's chat template took longer than {self.time_limit:g} s to "
                "render (it may loop for ever) and was stopped"
            )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
            self._stop(graceful=True)

    def _connection(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(
            target=_serve, args=(child, self.memory_limit), name="deepdive-template", daemon=True
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
        return parent

    def _stop(self, *, graceful: bool = False) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is not None:
            process.join(0.5 if graceful else 0)
            if process.is_alive():
                process.kill()
                process.join(2.0)
        if conn is not None:
            conn.close()


_shared: TemplateRenderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> TemplateRenderer:
    """The renderer the whole app shares (one child process)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            import atexit

            _shared = TemplateRenderer()
            atexit.register(_shared.close)
        return _shared


def render_safely(
    template: str, messages: Sequence[ChatMessage | Mapping[str, Any]], **options: Any
) -> str:
    """`render_chat_template` with limits: what every prompt builder in the app passes."""
    return shared_renderer().render(template, messages, **options)

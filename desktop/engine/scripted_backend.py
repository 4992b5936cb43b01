"""A scripted fake backend: known replies, timings and failures, for engine and UI tests.

It runs in the real model-host process, so tests of the engine exercise the real process,
pipe and thread code; only llama.cpp is replaced.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from desktop.core.chat.generation import (
    GenerationRequest,
    GenerationStats,
    LoadSettings,
    StopReason,
    TokenAlternative,
    TokenEvent,
)
from desktop.core.chat.prompt_builder import TemplateInfo
from desktop.core.chat.stop_strings import TokenStopFilter
from desktop.core.chat.stream_timing import StreamTiming
from desktop.engine.protocol import GenerationError, LoadedModel

_WORD = re.compile(r"\s*\S+|\s+")


@dataclass(frozen=True)
class Script:
    replies: tuple[str, ...] = ("Hello! I am a scripted model.",)
    # (text, reply): the first pair whose text is in the prompt answers it; else `replies`
    replies_by_prompt: tuple[tuple[str, str], ...] = ()
    token_delay: float = 0.0
    load_seconds: float = 0.0
    load_ignores_cancel: bool = False  # sleeps through a cancel, like a stuck mmap
    prompt_seconds: float = 0.0  # a "long prompt" that ignores stop requests
    crash_after_tokens: int = -1  # SIGSEGV itself after this many tokens
    crash_on_load_if_path_contains: str = "\0"  # SIGSEGV while loading such a file
    fail_load_if_path_contains: str = "\0"
    context_size: int = 2048
    chat_template: str | None = None
    # Written to file descriptor 1 natively (as llama.cpp's own prints and ggml's gdb
    # backtrace are) when loading, tokenizing and generating.
    native_stdout: str = ""


def pieces(text: str) -> list[str]:
    """Word-ish tokens: enough structure for the UI to colour and count."""
    return _WORD.findall(text)


class ScriptedBackend:
    def __init__(self, **script: Any) -> None:
        if "replies" in script:
            script["replies"] = tuple(script["replies"])
        if "replies_by_prompt" in script:
            script["replies_by_prompt"] = tuple(map(tuple, script["replies_by_prompt"]))
        self.script = Script(**script)
        self._loaded: str | None = None
        self._served = 0

    def load(
        self, path: str, settings: LoadSettings, progress: Callable[[float], bool]
    ) -> LoadedModel:
        s = self.script
        self._native_print()
        if s.fail_load_if_path_contains in path:
            raise GenerationError(f"scripted load failure for {os.path.basename(path)}")
        if s.crash_on_load_if_path_contains in path:  # what a llama.cpp assertion does
            os.kill(os.getpid(), signal.SIGSEGV)
        steps = max(1, round(s.load_seconds / 0.05))  # a progress report every 50 ms
        for i in range(steps):
            time.sleep(s.load_seconds / steps)
            if not progress((i + 1) / steps) and not s.load_ignores_cancel:
                raise GenerationError("loading was cancelled")
        self._loaded = path
        return LoadedModel(
            path=path,
            context_size=min(settings.context_size, s.context_size),
            vocab_size=1000,
            load_seconds=s.load_seconds,
            description="scripted model",
            threads=settings.threads or 2,
            template=TemplateInfo(s.chat_template, "", "<|im_end|>" if s.chat_template else ""),
        )

    def tokenize(
        self, text: str, *, parse_special: bool, add_bos: bool
    ) -> tuple[list[int], list[bytes]]:
        self._native_print()
        parts = pieces(text)
        ids = [1] * add_bos + [abs(hash(p)) % 1000 for p in parts]
        return ids, [b"<s>"] * add_bos + [p.encode() for p in parts]

    def stream(
        self, request: GenerationRequest, should_stop: Callable[[], bool]
    ) -> Iterator[TokenEvent | GenerationStats]:
        if self._loaded is None:
            raise GenerationError("no model is loaded")
        s = self.script
        reply = self._reply_for(request.prompt)
        timing = StreamTiming()
        time.sleep(s.prompt_seconds)
        stops = TokenStopFilter(request.stop)
        parts: list[str] = []
        reason: StopReason = "eos"
        prompt_tokens = 1 + len(pieces(request.prompt))  # BOS too, as llama.cpp counts
        for n, piece in enumerate(pieces(reply)):
            if n == s.crash_after_tokens:
                self._native_print()  # a crash handler's last words
                os.kill(os.getpid(), signal.SIGSEGV)
            if should_stop():
                reason = "cancelled"
                break
            if n >= request.sampling.max_tokens:
                reason = "length"
                break
            time.sleep(s.token_delay)
            timing.token()
            prob = 1.0 / (1 + n % 4)
            event = TokenEvent(
                text=piece,
                token_id=n,
                prob=prob,
                alternatives=(TokenAlternative(piece, prob), TokenAlternative(" maybe", 1 - prob))
                if request.top_alternatives
                else (),
            )
            for ready in stops.feed(event):
                parts.append(ready.text)
                yield ready
            if stops.stopped:
                reason = "stop"
                break
        for ready in stops.flush():
            parts.append(ready.text)
            yield ready
        yield timing.stats(request.request_id, prompt_tokens, reason, "".join(parts))

    def _native_print(self) -> None:
        if self.script.native_stdout:
            os.write(1, self.script.native_stdout.encode())

    def _reply_for(self, prompt: str) -> str:
        for text, reply in self.script.replies_by_prompt:
            if text in prompt:
                return reply
        reply = self.script.replies[self._served % len(self.script.replies)]
        self._served += 1
        return reply

    def close(self) -> None:
        self._loaded = None


BACKEND_NAME = "desktop.engine.scripted_backend:ScriptedBackend"  # for HostSession / engine

"""The llama.cpp backend. Runs only inside the model-host process.

`llama_cpp` is imported here, lazily, so neither the GUI process nor a test that uses the
scripted backend ever loads it.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import ctypes
import os
import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

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
from desktop.core.models.cpu import auto_threads
from desktop.engine.llama_runtime import llama_runtime
from desktop.engine.llama_vocab import LlamaVocab
from desktop.engine.protocol import GenerationError, LoadedModel


@contextlib.contextmanager
def _load_progress(report: Callable[[float], bool], *, extra_bufts: bool) -> Iterator[None]:
    """Give llama.cpp's model loader a progress callback.

    llama-cpp-python does not expose `progress_callback`, but it builds its model params
    from `llama_model_default_params()`; wrapping that one function (in this child process
    only) adds progress reports and a clean cancel: the callback returning False makes
    llama.cpp abandon the load. `extra_bufts=False` keeps weights out of the repacked
    buffers that a native build's AMX code would use (llama_runtime.py).
    """
    import llama_cpp.llama_cpp as lib

    original = lib.llama_model_default_params
    callback = lib.llama_progress_callback(lambda fraction, _data: bool(report(fraction)))

    def with_progress() -> Any:
        params = original()
        params.progress_callback = callback
        if not extra_bufts:
            params.use_extra_bufts = False
        return params

    lib.llama_model_default_params = with_progress
    try:
        yield
    finally:
        lib.llama_model_default_params = original


class LlamaLog:
    """Keeps llama.cpp's log lines instead of printing them, to explain failed loads."""

    def __init__(self, keep: int = 50) -> None:
        import llama_cpp.llama_cpp as lib

        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._callback = lib.llama_log_callback(self._on_log)  # referenced: never collected
        lib.llama_log_set(self._callback, ctypes.c_void_p(0))

    def _on_log(self, level: int, text: bytes, _user_data: Any) -> None:
        self.lines.append(text.decode("utf-8", errors="replace").rstrip())

    def last_error(self) -> str:
        for line in reversed(self.lines):
            if "error" in line.lower() or "failed" in line.lower():
                return line.strip()
        return ""


def without_double_bos(ids: list[int], bos: int) -> list[int]:
    """A chat template that writes the BOS text itself would otherwise give two BOS."""
    return ids[1:] if len(ids) > 1 and ids[0] == bos and ids[1] == bos else ids


VOCAB_ONLY_CONTEXT = 512  # a tokenizer needs no KV cache to speak of


LLAMA_MIN_CONTEXT = 256  # llama.cpp raises a smaller context to this; ask for it directly


class LlamaCppBackend:
    def __init__(self) -> None:
        self._log = LlamaLog()  # first: loading the CPU backend logs a line too
        self.runtime = llama_runtime()  # the CPU backend, loaded before any model
        self._threads = 0
        self._llm: Any = None
        self._path = ""
        self._vocab: LlamaVocab | None = None

    def load(
        self, path: str, settings: LoadSettings, progress: Callable[[float], bool]
    ) -> LoadedModel:
        import time

        from llama_cpp import Llama

        self.close()
        threads = settings.threads or auto_threads()
        start = time.perf_counter()
        cancelled = False

        def report(fraction: float) -> bool:
            nonlocal cancelled
            cancelled = not progress(fraction)
            return not cancelled

        try:
            with _load_progress(report, extra_bufts=not self.runtime.amx):
                self._llm = Llama(
                    model_path=path,
                    # llama-cpp-python sizes its buffers by what it asked for, llama.cpp by
                    # what it gave: below its minimum the two disagree and decoding fails
                    n_ctx=VOCAB_ONLY_CONTEXT
                    if settings.vocab_only
                    else max(LLAMA_MIN_CONTEXT, settings.context_size),
                    n_threads=threads,
                    n_threads_batch=threads,
                    vocab_only=settings.vocab_only,
                    verbose=False,
                )
        except ValueError as exc:
            if cancelled:
                raise GenerationError("loading was cancelled") from exc
            why = self._log.last_error()
            raise GenerationError(
                f"llama.cpp could not load {os.path.basename(path)}" + (f": {why}" if why else "")
            ) from exc
        self._path = path
        self._threads = threads
        llm = self._llm
        vocab = self._vocab = LlamaVocab(llm)
        return LoadedModel(
            path=path,
            context_size=int(llm.n_ctx()),
            vocab_size=int(llm.n_vocab()),
            load_seconds=time.perf_counter() - start,
            description=str(llm.metadata.get("general.name", os.path.basename(path))),
            runtime=self.runtime.describe(),
            threads=threads,
            template=TemplateInfo(
                chat_template=llm.metadata.get("tokenizer.chat_template") or None,
                bos_token=vocab.text(llm.token_bos()),
                eos_token=vocab.text(llm.token_eos()),
            ),
            vocabulary=vocab.all_pieces() if settings.vocab_only else (),
            special_ids=vocab.control_ids() if settings.vocab_only else frozenset(),
            end_ids=frozenset(int(t) for t in vocab.end_ids)
            if settings.vocab_only
            else frozenset(),
        )

    def _ban_end_tokens(self, _input_ids: Any, scores: Any) -> Any:
        scores[self._require_vocab().end_ids] = -np.inf
        return scores

    def close(self) -> None:
        self._vocab = None
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    # ---- tokens --------------------------------------------------------------------

    def _require_vocab(self) -> LlamaVocab:
        if self._vocab is None:
            raise GenerationError("no model is loaded")
        return self._vocab

    def tokenize(
        self, text: str, *, parse_special: bool, add_bos: bool
    ) -> tuple[list[int], list[bytes]]:
        llm = self._require_model()
        ids = without_double_bos(
            list(llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=parse_special)),
            llm.token_bos(),
        )
        vocab = self._require_vocab()
        return list(ids), [vocab.piece(t) for t in ids]

    def _require_model(self) -> Any:
        if self._llm is None:
            raise GenerationError("no model is loaded")
        return self._llm

    def _prompt_ids(self, prompt: str) -> list[int]:
        llm = self._llm
        ids = list(llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
        return without_double_bos(ids, llm.token_bos())

    # ---- generation ----------------------------------------------------------------

    def stream(
        self, request: GenerationRequest, should_stop: Callable[[], bool]
    ) -> Iterator[TokenEvent | GenerationStats]:
        llm = self._require_model()
        s = request.sampling
        prompt_ids = self._prompt_ids(request.prompt)
        n_ctx = int(llm.n_ctx())
        if len(prompt_ids) >= n_ctx:
            raise GenerationError(
                f"the conversation is {len(prompt_ids)} tokens, more than the context size "
                f"({n_ctx}); start a new chat or load the model with a larger context"
            )
        llm.set_seed(s.seed if s.seed >= 0 else random.randrange(2**31))
        self._use_threads(request.threads or self._threads)
        timing = StreamTiming()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = TokenStopFilter(request.stop)
        vocab = self._require_vocab()
        text_parts: list[str] = []
        reason: StopReason = "length"
        tokens = llm.generate(
            prompt_ids,
            top_k=s.top_k,
            top_p=s.top_p,
            min_p=s.min_p,
            temp=s.temperature,
            repeat_penalty=s.repeat_penalty,
            logits_processor=[self._ban_end_tokens] if request.ignore_eos else None,
        )
        try:
            for token in tokens:
                timing.token()
                if vocab.is_end(token):
                    reason = "eos"
                    break
                event = TokenEvent(text=decoder.decode(vocab.piece(token)), token_id=int(token))
                if request.top_alternatives > 0:
                    event = self._with_probabilities(event, request.top_alternatives)
                for ready in stops.feed(event):
                    text_parts.append(ready.text)
                    yield ready
                if stops.stopped:
                    reason = "stop"
                    break
                if should_stop():
                    reason = "cancelled"
                    break
                if timing.tokens >= s.max_tokens:
                    reason = "length"
                    break
                if len(prompt_ids) + timing.tokens >= n_ctx:
                    reason = "context"
                    break
        finally:
            tokens.close()
        for ready in stops.flush():
            text_parts.append(ready.text)
            yield ready
        yield timing.stats(request.request_id, len(prompt_ids), reason, "".join(text_parts))

    def _use_threads(self, threads: int) -> None:
        """Threads can change between requests without a reload (a training run started)."""
        if threads > 0 and threads != self._threads:
            import llama_cpp.llama_cpp as lib

            lib.llama_set_n_threads(self._llm._ctx.ctx, threads, threads)
            self._threads = threads

    def _with_probabilities(self, event: TokenEvent, top: int) -> TokenEvent:
        """The model's own distribution (before sampling settings) for the token just made.

        Works on llama.cpp's float32 logits in place: only the exponentials are a new array,
        which keeps colouring cheap (~0.4 ms a token on a 49k vocabulary).
        """
        vocab = self._require_vocab()
        raw = self._llm._ctx.get_logits_ith(-1)
        logits = np.ctypeslib.as_array(raw, shape=(vocab.size,))
        exp = np.exp(logits - logits.max())
        total = float(exp.sum())
        k = min(top, vocab.size - 1)
        best = np.argpartition(logits, -k)[-k:]
        best = best[np.argsort(-logits[best])]
        alternatives = tuple(
            TokenAlternative(
                text=vocab.piece(int(i)).decode("utf-8", errors="replace"),
                prob=float(exp[i]) / total,
            )
            for i in best
        )
        return TokenEvent(
            text=event.text,
            token_id=event.token_id,
            prob=float(exp[event.token_id]) / total,
            alternatives=alternatives,
        )

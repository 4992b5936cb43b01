"""Every tokenizer the Tokens tab can use, by key, loaded on first use and kept:
`tiktoken:cl100k_base` (in this process) or `gguf:/path/model.gguf` (llama.cpp in a
host process of its own). Thread-safe and Qt-free.

Loading happens outside the pool's lock (each key has its own), so a slow GGUF load or a
download never holds up tokenizing with another tokenizer. At most MAX_GGUF host
processes stay open (enough for a comparison of four and the current one); the least
recently used is closed first. A tokenizer whose host died is reopened once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from desktop.core.chat.generation import ChatMessage
from desktop.core.chat.prompt_builder import build_prompt
from desktop.core.tokens.chat_format import tiktoken_chat_prompt
from desktop.core.tokens.tiktoken_source import load_encoding
from desktop.core.tokens.tiktoken_tokenizer import TiktokenTokenizer
from desktop.core.tokens.tokenized import Tokenized
from desktop.engine.chat_turn import default_prompt_mode
from desktop.engine.gguf_tokenizer import GGUFTokenizer
from desktop.engine.host_session import ModelCrashed
from desktop.engine.template_renderer import render_safely

TIKTOKEN, GGUF, TRAINED = "tiktoken:", "gguf:", "trained:"
MAX_GGUF = 5
AnyTokenizer = TiktokenTokenizer | GGUFTokenizer
T = TypeVar("T")


def tiktoken_key(name: str) -> str:
    return TIKTOKEN + name


def gguf_key(path: str | Path) -> str:
    return GGUF + str(path)


def trained_key(tokenizer_file: str | Path) -> str:
    """A tokenizer trained in the Train tab: its run's tokenizer.json."""
    return TRAINED + str(tokenizer_file)


def label(key: str) -> str:
    if key.startswith(GGUF):
        return Path(key[len(GGUF) :]).name
    if key.startswith(TRAINED):
        return f"{Path(key[len(TRAINED) :]).parent.name} (trained)"
    return key[len(TIKTOKEN) :]


class TokenizerPool:
    def __init__(self) -> None:
        self._tokenizers: OrderedDict[str, AnyTokenizer] = OrderedDict()
        self._lock = threading.Lock()  # guards the dict only, never held while loading
        self._loading: dict[str, threading.Lock] = {}

    def is_loaded(self, key: str) -> bool:
        return key in self._tokenizers

    def get(self, key: str, *, allow_download: bool = False) -> AnyTokenizer:
        """Raises NeedsDownload (tiktoken, not cached) or SessionError (a bad GGUF)."""
        tokenizer = self._cached(key)
        if tokenizer is not None:
            return tokenizer
        with self._lock:
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:  # one load per key; other keys go on meanwhile
            tokenizer = self._cached(key) or self._load(key, allow_download)
        self._keep(key, tokenizer)
        return tokenizer

    def _cached(self, key: str) -> AnyTokenizer | None:
        with self._lock:
            tokenizer = self._tokenizers.get(key)
            if tokenizer is not None:
                self._tokenizers.move_to_end(key)
            return tokenizer

    def _keep(self, key: str, tokenizer: AnyTokenizer) -> None:
        with self._lock:
            self._tokenizers[key] = tokenizer
            self._tokenizers.move_to_end(key)
            hosts = [k for k, t in self._tokenizers.items() if isinstance(t, GGUFTokenizer)]
            evicted = hosts[: max(0, len(hosts) - MAX_GGUF)]  # least recently used first
        for old in evicted:
            self.forget(old)

    def _load(self, key: str, allow_download: bool) -> AnyTokenizer:
        if key.startswith(GGUF):
            gguf = GGUFTokenizer()
            try:
                gguf.open(key[len(GGUF) :])
            except Exception:
                gguf.close()
                raise
            return gguf
        if key.startswith(TRAINED):
            from desktop.core.train.trained_tokenizer import TrainedTokenizer

            trained = TrainedTokenizer.load(Path(key[len(TRAINED) :]))
            return TiktokenTokenizer(trained.encoding())
        if key.startswith(TIKTOKEN):
            return TiktokenTokenizer(load_encoding(key[len(TIKTOKEN) :],
                                                   allow_download=allow_download))  # fmt: skip
        raise KeyError(f"not a tokenizer key: {key!r}")

    def _with_recovery(self, key: str, call: Callable[[AnyTokenizer], T]) -> T:
        """Run `call`; if the tokenizer's host crashed, drop it and try once more."""
        try:
            return call(self.get(key))
        except ModelCrashed:
            self.forget(key)
            return call(self.get(key))

    def forget(self, key: str) -> None:
        with self._lock:
            tokenizer = self._tokenizers.pop(key, None)
        if isinstance(tokenizer, GGUFTokenizer):
            tokenizer.close()

    def tokenize(self, key: str, text: str, *, parse_special: bool = False) -> Tokenized:
        return self._with_recovery(key, lambda t: t.tokenize(text, parse_special=parse_special))

    def chat(self, key: str, messages: Sequence[ChatMessage]) -> Tokenized:
        """The prompt this tokenizer's model would really read, tokenized as the Chat tab
        sends it: special tokens as control tokens, BOS added as the model asks."""

        def run(tokenizer: AnyTokenizer) -> Tokenized:
            if isinstance(tokenizer, GGUFTokenizer):
                assert tokenizer.model is not None
                # the prompt the Chat tab would send: the template, or for a base model the
                # base-model transcript; templates run in the limited renderer process
                model = tokenizer.model
                plan = build_prompt(messages, model.template, default_prompt_mode(model),
                                    render=render_safely)  # fmt: skip
                return tokenizer.tokenize(plan.text, parse_special=True, as_prompt=True)
            specials = list(tokenizer.chat_encoding()._special_tokens)
            if not tokenizer.has_chat_tokens():
                raise ValueError(f"{tokenizer.name} has no chat format: it predates chat "
                                 "models (try cl100k_base or o200k_base)")  # fmt: skip
            return tokenizer.tokenize_chat(tiktoken_chat_prompt(messages, specials))

        return self._with_recovery(key, run)

    def piece(self, key: str, token_id: int) -> bytes:
        return self.get(key).piece(token_id)

    def vocab_size(self, key: str) -> int:
        tokenizer = self.get(key)
        if isinstance(tokenizer, GGUFTokenizer):
            return len(tokenizer.model.vocabulary) if tokenizer.model else 0
        return tokenizer.vocab_size

    def describe(self, key: str) -> str:
        """The tokenizer's kind and vocabulary size, for a reader ("SentencePiece (llama) ·
        vocabulary 262,144 tokens"). Call once the tokenizer has been loaded."""
        from desktop.core.models.model_info import ModelInfo
        from desktop.core.tokens.tokenizer_kinds import describe_vocabulary, tokenizer_kind

        tokenizer = self.get(key)
        if isinstance(tokenizer, GGUFTokenizer):
            info = tokenizer.model.info if tokenizer.model else None
            kind = tokenizer_kind(info.tokenizer_model if isinstance(info, ModelInfo) else None)
        elif key.startswith(TRAINED):
            kind = "byte-level BPE (trained in the Train tab)"
        else:
            kind = "byte-level BPE (tiktoken)"
        return describe_vocabulary(kind, self.vocab_size(key))

    def open_hosts(self) -> int:
        return sum(isinstance(t, GGUFTokenizer) for t in self._tokenizers.values())

    def close(self) -> None:
        """Close what is loaded (a load still under way closes with its own job)."""
        with self._lock:
            tokenizers = list(self._tokenizers.values())
            self._tokenizers.clear()
        for tokenizer in tokenizers:
            if isinstance(tokenizer, GGUFTokenizer):
                tokenizer.close()

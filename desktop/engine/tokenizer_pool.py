"""Every tokenizer the Tokens tab can use, by key, loaded on first use and kept:
`tiktoken:cl100k_base` (in this process) or `gguf:/path/model.gguf` (llama.cpp in a
host process of its own). Thread-safe, so background jobs can share it; Qt-free."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from desktop.core.generation import ChatMessage
from desktop.core.tokens.chat_format import template_chat_prompt, tiktoken_chat_prompt
from desktop.core.tokens.tiktoken_source import load_encoding
from desktop.core.tokens.tiktoken_tokenizer import TiktokenTokenizer
from desktop.core.tokens.tokenized import Tokenized
from desktop.engine.gguf_tokenizer import GGUFTokenizer

TIKTOKEN, GGUF = "tiktoken:", "gguf:"
AnyTokenizer = TiktokenTokenizer | GGUFTokenizer


def tiktoken_key(name: str) -> str:
    return TIKTOKEN + name


def gguf_key(path: str | Path) -> str:
    return GGUF + str(path)


def label(key: str) -> str:
    return Path(key[len(GGUF) :]).name if key.startswith(GGUF) else key[len(TIKTOKEN) :]


class TokenizerPool:
    def __init__(self) -> None:
        self._tokenizers: dict[str, AnyTokenizer] = {}
        self._lock = threading.Lock()

    def get(self, key: str, *, allow_download: bool = False) -> AnyTokenizer:
        """Raises NeedsDownload (tiktoken, not cached) or SessionError (a bad GGUF)."""
        with self._lock:
            tokenizer = self._tokenizers.get(key)
            if tokenizer is None:
                tokenizer = self._load(key, allow_download)
                self._tokenizers[key] = tokenizer
            return tokenizer

    def is_loaded(self, key: str) -> bool:
        return key in self._tokenizers

    def _load(self, key: str, allow_download: bool) -> AnyTokenizer:
        if key.startswith(GGUF):
            gguf = GGUFTokenizer()
            try:
                gguf.open(key[len(GGUF) :])
            except Exception:
                gguf.close()
                raise
            return gguf
        if key.startswith(TIKTOKEN):
            return TiktokenTokenizer(load_encoding(key[len(TIKTOKEN) :],
                                                   allow_download=allow_download))  # fmt: skip
        raise KeyError(f"not a tokenizer key: {key!r}")

    def tokenize(self, key: str, text: str, *, parse_special: bool = False) -> Tokenized:
        return self.get(key).tokenize(text, parse_special=parse_special)

    def chat(self, key: str, messages: Sequence[ChatMessage]) -> Tokenized:
        """The prompt this tokenizer's model would really read, tokenized with its special
        tokens as control tokens (raises ChatTemplateError for a broken template)."""
        tokenizer = self.get(key)
        if isinstance(tokenizer, GGUFTokenizer):
            model = tokenizer.model
            assert model is not None
            t = model.template
            if not t.chat_template:
                raise ValueError(f"{label(key)} has no chat template (a base model)")
            prompt = template_chat_prompt(messages, t.chat_template,
                                          bos_token=t.bos_token, eos_token=t.eos_token)  # fmt: skip
            return tokenizer.tokenize(prompt, parse_special=True)
        specials = list(tokenizer.chat_encoding()._special_tokens)
        return tokenizer.tokenize_chat(tiktoken_chat_prompt(messages, specials))

    def piece(self, key: str, token_id: int) -> bytes:
        return self.get(key).piece(token_id)

    def vocab_size(self, key: str) -> int:
        tokenizer = self.get(key)
        if isinstance(tokenizer, GGUFTokenizer):
            return len(tokenizer.model.vocabulary) if tokenizer.model else 0
        return tokenizer.vocab_size

    def close(self) -> None:
        with self._lock:
            for tokenizer in self._tokenizers.values():
                if isinstance(tokenizer, GGUFTokenizer):
                    tokenizer.close()
            self._tokenizers.clear()

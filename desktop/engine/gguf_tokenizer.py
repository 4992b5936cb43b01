"""A GGUF model's own tokenizer, exactly as llama.cpp runs it: the model-host process
loads only the vocabulary (`vocab_only`), so even a 70B model opens in moments and a
tokenizer llama.cpp chokes on cannot take the app down. Qt-free: the command line uses
it directly, the Tokens tab from a background job. One caller at a time (a lock)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from desktop.core.chat.generation import LoadSettings
from desktop.core.tokens.tokenized import Tokenized
from desktop.engine.host_session import HostSession, SessionError
from desktop.engine.protocol import LoadedModel


class GGUFTokenizer:
    def __init__(self, session: HostSession | None = None) -> None:
        self._session = session or HostSession()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.model: LoadedModel | None = None

    @property
    def name(self) -> str:
        return Path(self.model.path).name if self.model else ""

    def open(self, path: str | Path) -> LoadedModel:
        """Load `path`'s vocabulary (raises SessionError with a clear message)."""
        with self._lock:
            if self.model is None or self.model.path != str(path):
                self.model = None
                self.model = self._session.load(str(path), LoadSettings(vocab_only=True))
            return self.model

    def tokenize(
        self, text: str, *, parse_special: bool = False, as_prompt: bool = False
    ) -> Tokenized:
        """`parse_special`: `<|im_start|>` written in the text becomes that control token
        (as in a chat template's output); otherwise it is ordinary text (as typed).
        `as_prompt`: with the BOS token the model wants, exactly as the Chat tab sends it."""
        with self._lock:
            if self.model is None:
                raise SessionError("Open a GGUF model first.")
            ids, pieces = self._session.tokenize(
                next(self._ids), text, parse_special, add_bos=as_prompt
            )
            return Tokenized.from_pieces(text, ids, pieces, self.model.special_ids)

    def piece(self, token_id: int) -> bytes:
        if self.model is None or not 0 <= token_id < len(self.model.vocabulary):
            raise KeyError(token_id)
        return self.model.vocabulary[token_id]

    def close(self) -> None:
        with self._lock:
            self._session.close()
            self.model = None

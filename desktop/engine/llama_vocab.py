"""Fast per-token access to a loaded llama.cpp vocabulary (model-host process only).

Decoding runs once per generated token, so the pointers, the piece buffer and the set of
end-of-generation ids are looked up once per model instead of once per token.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

PIECE_BUFFER = 256


class LlamaVocab:
    def __init__(self, llm: Any) -> None:
        import llama_cpp.llama_cpp as lib

        self._lib = lib
        self._vocab = llm._model.vocab
        self.size = int(llm.n_vocab())
        self._buffer = ctypes.create_string_buffer(PIECE_BUFFER)
        # llama.cpp marks several ids as "end of generation" (eos, eot, im_end, ...).
        self.end_ids = np.array(
            [t for t in range(self.size) if lib.llama_vocab_is_eog(self._vocab, t)], dtype=np.intp
        )
        self._end_set = frozenset(int(t) for t in self.end_ids)

    def is_end(self, token: int) -> bool:
        return token in self._end_set

    def piece(self, token: int) -> bytes:
        """The token's bytes (special tokens as their text); may be part of a character."""
        n = self._lib.llama_token_to_piece(self._vocab, token, self._buffer, PIECE_BUFFER, 0, True)
        if n >= 0:
            return self._buffer.raw[:n]
        big = ctypes.create_string_buffer(-n)  # -n is the size this piece needs
        n = self._lib.llama_token_to_piece(self._vocab, token, big, len(big), 0, True)
        return big.raw[:n]

    def text(self, token: int) -> str:
        """The token as the vocabulary stores it (for BOS/EOS in chat templates)."""
        if not 0 <= token < self.size:
            return ""
        raw = self._lib.llama_vocab_get_text(self._vocab, token)
        return raw.decode("utf-8", errors="replace") if raw else ""

    def all_pieces(self) -> tuple[bytes, ...]:
        """Every token's bytes, for look-ups without a round trip per id."""
        return tuple(self.piece(t) for t in range(self.size))

    def control_ids(self) -> frozenset[int]:
        """Tokens llama.cpp treats as special: control tokens (<s>, <|im_start|>, …) and
        user-defined markers (chat markers some converters add), shown and counted apart.
        A user-defined token that is only whitespace is ordinary text: Gemma's vocabulary
        declares its runs of spaces and newlines that way, and they are indentation."""
        lib = self._lib
        get_attr = lib.llama_vocab_get_attr
        control, user = lib.LLAMA_TOKEN_ATTR_CONTROL, lib.LLAMA_TOKEN_ATTR_USER_DEFINED
        found = set()
        for t in range(self.size):
            attr = get_attr(self._vocab, t)
            if attr & control or (attr & user and self.piece(t).strip()):
                found.add(t)
        return frozenset(found)

"""A tiktoken encoding as the Tokens tab uses it: ids, pieces, special tokens, chat markers.

OpenAI's chat formats use special tokens that the public encodings leave out; like
tiktokenizer, the chat view adds them (ChatML's `<|im_start|>`, `<|im_end|>`,
`<|im_sep|>` at their published ids) to a copy of cl100k_base / o200k_base.
o200k_harmony already has its own (`<|start|>`, `<|message|>`, `<|end|>`, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from desktop.core.tokens.tokenized import Tokenized

if TYPE_CHECKING:
    import tiktoken

CHATML_IDS = {
    "cl100k_base": {"<|im_start|>": 100264, "<|im_end|>": 100265, "<|im_sep|>": 100266},
    "o200k_base": {"<|im_start|>": 200264, "<|im_end|>": 200265, "<|im_sep|>": 200266},
}


@dataclass
class TiktokenTokenizer:
    encoding: tiktoken.Encoding
    _chat: tiktoken.Encoding | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.encoding.name.removesuffix("_offline")

    @property
    def vocab_size(self) -> int:
        return int(self.encoding.n_vocab)

    def tokenize(self, text: str, *, parse_special: bool = False) -> Tokenized:
        """`parse_special`: text such as `<|endoftext|>` becomes that control token;
        otherwise it is ordinary text, as in anything a user types."""
        return _tokenize(self.encoding, text, parse_special)

    def piece(self, token_id: int) -> bytes:
        return self.chat_encoding().decode_single_token_bytes(token_id)

    def chat_encoding(self) -> tiktoken.Encoding:
        """This encoding plus the chat format's special tokens, where it has none."""
        if self._chat is None:
            extra = CHATML_IDS.get(self.name, {})
            if not extra:
                self._chat = self.encoding
            else:
                import tiktoken

                e = self.encoding
                self._chat = tiktoken.Encoding(
                    name=f"{self.name}_chat",
                    pat_str=e._pat_str,
                    mergeable_ranks=e._mergeable_ranks,
                    special_tokens={**e._special_tokens, **extra},
                )
        return self._chat

    def has_chat_tokens(self) -> bool:
        specials = self.chat_encoding()._special_tokens
        return "<|im_start|>" in specials or "<|start|>" in specials

    def tokenize_chat(self, prompt: str) -> Tokenized:
        return _tokenize(self.chat_encoding(), prompt, parse_special=True)


def _tokenize(encoding: tiktoken.Encoding, text: str, parse_special: bool) -> Tokenized:
    if parse_special:
        ids = encoding.encode(text, allowed_special="all")
    else:
        ids = encoding.encode_ordinary(text)
    lengths = _length_table(encoding)[np.asarray(ids, dtype=np.int64)]
    specials = frozenset(encoding._special_tokens.values())
    # tiktoken's tokens spell out the text exactly (special tokens as their own text)
    return Tokenized(text, ids, lengths, text.encode("utf-8"), specials)


_length_tables: dict[str, npt.NDArray[np.int64]] = {}


def _length_table(encoding: tiktoken.Encoding) -> npt.NDArray[np.int64]:
    """Every token's length in bytes, once per encoding (~20 ms for 200 000 tokens)."""
    table = _length_tables.get(encoding.name)
    if table is None:
        table = np.zeros(encoding.n_vocab, dtype=np.int64)
        for token, rank in encoding._mergeable_ranks.items():
            table[rank] = len(token)
        for text, rank in encoding._special_tokens.items():
            table[rank] = len(text.encode("utf-8"))
        _length_tables[encoding.name] = table
    return table

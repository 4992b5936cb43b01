"""The vocabulary a BPE training run learned (`TrainedTokenizer`), and its file format.

Ids 0-255 are the bytes, then one token per merge in the order learned, then the special
tokens. Encoding replays the merges through tiktoken's Rust encoder; `save`/`load` keep
the vocabulary as a small JSON file whose merges read as GGUF spells them.

The same vocabulary is exported to GGUF (`to_bpe_vocab`), where llama.cpp's "gpt2"
tokenizer replays the merges itself. It must split text into exactly the same chunks as
tiktoken does here, so the pattern is one that llama.cpp implements by hand, selected by
the GGUF's `tokenizer.ggml.pre` (`PRE_TOKENIZERS`, `TrainedTokenizer.gguf_pre`). The
tests prove that llama.cpp then gives the same ids as tiktoken, token for token.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.core.models.bpe_vocab import (
    BpeVocab,
    bytes_to_unicode,
    token_text,
    vocab_from_byte_merges,
)
from desktop.core.storage.atomic_files import write_text_atomically

if TYPE_CHECKING:
    import tiktoken

# How text is cut into chunks before any merging (bpe.py, step 1).
# GPT-4 / Llama 3 style: contractions (either case), a word with at most one leading
# non-letter (usually its space), numbers in groups of at most three digits (so "1234567"
# is "123", "456", "7": arithmetic sees the same few number tokens over and over),
# punctuation with the newlines after it, newlines with the spaces before them, and other
# whitespace. Written exactly as llama.cpp's hand-written "llama-bpe" splitter spells it
# (`'[sS]` rather than `(?i:'s)`: case-insensitive matching would also take "'ſ").
LLAMA3_PATTERN = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
    r"|[^\r\n\p{L}\p{N}]?\p{L}+"
    r"|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+"
)
# GPT-2's pattern (tiktoken's r50k_base): lowercase contractions, " word", " 12345",
# " ?!.", whitespace. Simpler, but digits stay in one chunk however long the number is.
GPT2_PATTERN = r"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

# The `tokenizer.ggml.pre` value that makes llama.cpp split text as each pattern does
# (each has a hand-written splitter in llama.cpp's unicode.cpp). "llama-bpe" also makes
# llama.cpp take a chunk that is a whole token as is, before any merging, as tiktoken does.
PRE_TOKENIZERS = {LLAMA3_PATTERN: "llama-bpe", GPT2_PATTERN: "gpt-2"}
DEFAULT_PATTERN = LLAMA3_PATTERN

FILE_FORMAT = "deepdive-bpe"
FILE_VERSION = 1

Pair = tuple[int, int]


@dataclass(frozen=True)
class TrainedTokenizer:
    """A learned vocabulary: ids 0-255 are the bytes (id == byte value), then one token per
    merge in the order learned, then the special tokens.

    `merges` is what was learned; `ranks` and `special_tokens` are the same vocabulary in
    the form tiktoken takes, and `to_bpe_vocab` the form GGUF stores.
    """

    merges: tuple[Pair, ...]  # merge k joins tokens (left, right) into token 256 + k
    specials: tuple[str, ...]
    pattern: str = DEFAULT_PATTERN
    name: str = "deepdive-bpe"
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_specials(self.specials)
        for k, (left, right) in enumerate(self.merges):
            if not (0 <= left < 256 + k and 0 <= right < 256 + k):
                raise ValueError(f"merge {k} uses a token that does not exist yet")
        if len(set(self.token_bytes)) != len(self.token_bytes):
            raise ValueError("two merges make the same token")

    # --- the vocabulary in its different spellings ---

    @property
    def n_vocab(self) -> int:
        return 256 + len(self.merges) + len(self.specials)

    @cached_property
    def token_bytes(self) -> tuple[bytes, ...]:
        """Every ordinary token's bytes, by id: the bytes, then each merge's two parts joined."""
        out = [bytes([b]) for b in range(256)]
        for left, right in self.merges:
            out.append(out[left] + out[right])
        return tuple(out)

    @property
    def ranks(self) -> dict[bytes, int]:
        """tiktoken's `mergeable_ranks`: token bytes -> id. tiktoken merges the adjacent pair
        whose joined bytes have the lowest rank first, which replays our merges in order."""
        return {token: i for i, token in enumerate(self.token_bytes)}

    @property
    def special_tokens(self) -> dict[str, int]:
        first = 256 + len(self.merges)
        return {text: first + i for i, text in enumerate(self.specials)}

    @property
    def gguf_pre(self) -> str:
        """The `tokenizer.ggml.pre` value llama.cpp needs to split text as `pattern` does."""
        try:
            return PRE_TOKENIZERS[self.pattern]
        except KeyError:
            raise ValueError("llama.cpp has no pre-tokenizer for this pattern") from None

    def encoding(self) -> tiktoken.Encoding:
        """A tiktoken encoding of this vocabulary (built once, then reused)."""
        cached = self._cache.get("encoding")
        if cached is None:
            import tiktoken

            cached = tiktoken.Encoding(
                name=self.name,
                pat_str=self.pattern,
                mergeable_ranks=self.ranks,
                special_tokens=self.special_tokens,
            )
            self._cache["encoding"] = cached
        encoding: tiktoken.Encoding = cached
        return encoding

    def encode(self, text: str, *, allow_special: bool = False) -> list[int]:
        """`allow_special`: "<|im_end|>" in the text becomes that special token; otherwise it
        is ordinary text (as anything a user types must be)."""
        if allow_special:
            return self.encoding().encode(text, allowed_special="all")
        return self.encoding().encode_ordinary(text)

    def decode(self, ids: Iterable[int]) -> str:
        """Token ids back to text; a token sequence cut inside a character shows U+FFFD."""
        return self.encoding().decode(list(ids))

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """Token ids back to their bytes, which need not be whole UTF-8 characters."""
        return self.encoding().decode_bytes(list(ids))

    def to_bpe_vocab(self, *, bos: str = "<|endoftext|>", eos: str = "<|im_end|>") -> BpeVocab:
        """The vocabulary as `write_vocab_gguf` / `write_llama_gguf` write it: tokens in GPT-2's
        byte-to-unicode text, merges as "left right" in the order learned, specials typed
        CONTROL (matched only when the caller asks for special tokens). A missing `eos`
        falls back to `bos`, a missing `bos` to the first special token."""
        table = self.token_bytes
        merges = [(table[left], table[right]) for left, right in self.merges]
        bos = bos if bos in self.specials else self.specials[0]
        return vocab_from_byte_merges(merges, specials=self.specials, bos=bos, eos=eos)

    # --- files ---

    def save(self, path: str | os.PathLike[str]) -> None:
        """A small JSON file, written atomically. The merges are spelled as in GGUF and
        Hugging Face's merges.txt ("Ġ t" joins " " and "t"), so the file reads as a list of
        what was learned, in order."""
        table = self.token_bytes
        data = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "name": self.name,
            "pattern": self.pattern,
            "special_tokens": list(self.specials),
            "merges": [f"{token_text(table[a])} {token_text(table[b])}" for a, b in self.merges],
        }
        write_text_atomically(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainedTokenizer:
        """Read a file written by `save`; ValueError if it is not one."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} is not a tokenizer file ({e})") from e
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise ValueError(f"{path} is not a tokenizer file")
        if data.get("version") != FILE_VERSION:
            raise ValueError(f"{path}: unknown tokenizer file version {data.get('version')!r}")
        try:
            return cls(
                merges=_merges_from_text(data["merges"]),
                specials=tuple(str(s) for s in data["special_tokens"]),
                pattern=str(data["pattern"]),
                name=str(data["name"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: damaged tokenizer file ({e})") from e


def check_specials(specials: Sequence[str]) -> None:
    """ValueError unless `specials` can end a vocabulary (training checks before it starts)."""
    if not specials:
        raise ValueError("at least one special token is needed (llama.cpp wants a BOS/EOS)")
    if len(set(specials)) != len(specials) or not all(specials):
        raise ValueError("special tokens must be distinct and not empty")


def _merges_from_text(lines: Iterable[str]) -> tuple[Pair, ...]:
    """Merges spelled "Ġ t" back to pairs of ids; each may only use tokens made before it."""
    to_byte = {char: b for b, char in bytes_to_unicode().items()}
    ids = {bytes([b]): b for b in range(256)}
    merges: list[Pair] = []
    for line in lines:
        left_text, right_text = line.split(" ")
        left = bytes(to_byte[c] for c in left_text)
        right = bytes(to_byte[c] for c in right_text)
        merges.append((ids[left], ids[right]))
        ids[left + right] = 256 + len(merges) - 1
    return tuple(merges)

"""Where a token sits in the text the user typed, in the editor's own units.

Qt counts positions in UTF-16 code units (an emoji is two), Python in code points, and
tokens in UTF-8 bytes; and a tokenizer's bytes need not start where the text does (a
SentencePiece model adds a leading space, a BOS token adds bytes of its own). This maps
between them once per result, with numpy, so a cursor move costs a binary search.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


class TextPositions:
    def __init__(self, text: str, data: bytes, lengths: IntArray) -> None:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        utf8 = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)
        utf16 = 1 + (codes >= 0x10000)
        self._byte_at_char = np.concatenate(([0], np.cumsum(utf8))).astype(np.int64)
        self._utf16_at_char = np.concatenate(([0], np.cumsum(utf16))).astype(np.int64)
        ends = np.cumsum(lengths).astype(np.int64)
        self._byte_starts, self._byte_ends = ends - lengths, ends
        text_bytes = int(self._byte_at_char[-1])
        # the text's bytes are the tail of the tokens' bytes (after an added space or BOS)
        tail = data[len(data) - text_bytes :] if text_bytes else b""
        aligned = text_bytes <= len(data) and tail == text.encode("utf-8")
        self.offset: int | None = len(data) - text_bytes if aligned else None

    def token_at(self, utf16_position: int) -> int:
        """The token covering the character at an editor position, or -1."""
        if self.offset is None or len(self._byte_starts) == 0:
            return -1
        char = int(np.searchsorted(self._utf16_at_char, utf16_position, side="right")) - 1
        byte = int(self._byte_at_char[max(0, char)]) + self.offset
        index = int(np.searchsorted(self._byte_starts, byte, side="right")) - 1
        return max(0, min(index, len(self._byte_starts) - 1))

    def span(self, index: int) -> tuple[int, int] | None:
        """The editor positions (UTF-16) a token's bytes cover; characters the token only
        partly covers are included whole. None when the text and tokens do not line up."""
        if self.offset is None:
            return None
        start = int(self._byte_starts[index]) - self.offset
        end = int(self._byte_ends[index]) - self.offset
        first = int(np.searchsorted(self._byte_at_char, max(0, start), side="right")) - 1
        last = int(np.searchsorted(self._byte_at_char, max(0, end), side="left"))
        last = min(last, len(self._utf16_at_char) - 1)
        return int(self._utf16_at_char[max(0, first)]), int(self._utf16_at_char[last])

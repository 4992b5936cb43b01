"""Samples from the model as it trains, and how much of them is copied from the data.

The regurgitation meter: of all 12-token windows in the samples, the share that occur
word for word in the training data. A model that learns writes new text; one that
memorises writes back its corpus — the number rises as the train/validation gap opens.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from desktop.core.tokens.display import show_bytes

Ids = npt.NDArray[np.int32]
Logits = Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float32]]  # (1, T) → (1, T, V)
WINDOW = 12
_BASE = np.uint64(1_000_003)
_ESCAPED = re.compile(
    "[\udc80-\udcff]+"
)  # bytes that were not UTF-8, as surrogateescape keeps them


def sample(
    logits_of: Logits,
    prompt: list[int],
    n_tokens: int,
    context: int,
    *,
    temperature: float,
    rng: np.random.Generator,
) -> list[int]:
    """Continue `prompt` one token at a time (the whole window each step: tiny models need
    no KV cache to be quick enough)."""
    tokens = list(prompt) or [0]
    for _ in range(n_tokens):
        window = np.asarray(tokens[-context:], dtype=np.int64)[None, :]
        last = logits_of(window)[0, -1].astype(np.float64)
        if temperature <= 0:
            tokens.append(int(np.argmax(last)))
            continue
        scaled = (last - last.max()) / temperature
        probs = np.exp(scaled)
        tokens.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return tokens[len(prompt) :] if prompt else tokens[1:]


def readable_text(data: bytes) -> str:
    """A sample's bytes as text; bytes that are not UTF-8 (a tiny model often writes half
    of an emoji) are shown as the Tokens tab shows them, `‹F0 9F›`, not as "�"."""
    text = data.decode("utf-8", errors="surrogateescape")
    return _ESCAPED.sub(lambda m: show_bytes(m.group().encode("utf-8", "surrogateescape")), text)


def window_hashes(ids: Ids, window: int = WINDOW) -> npt.NDArray[np.uint64]:
    """A hash of every `window`-token run (polynomial, wrapping in 64 bits), vectorised."""
    if len(ids) < window:
        return np.zeros(0, dtype=np.uint64)
    values = ids.astype(np.uint64) + np.uint64(1)
    hashes = np.zeros(len(ids) - window + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(window):
            hashes = hashes * _BASE + values[offset : offset + len(hashes)]
    return hashes


class RegurgitationMeter:
    """Knows every 12-token window of the training data (a sorted array of hashes)."""

    def __init__(self, train_ids: Ids, window: int = WINDOW) -> None:
        self.window = window
        self._known = np.unique(window_hashes(train_ids, window))

    def share_copied(self, sample_ids: list[int]) -> float | None:
        """Share of the sample's windows found verbatim in the data; None if too short."""
        hashes = window_hashes(np.asarray(sample_ids, dtype=np.int32), self.window)
        if len(hashes) == 0:
            return None
        found = np.isin(hashes, self._known, assume_unique=False)
        return float(found.mean())

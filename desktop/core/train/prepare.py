"""From a corpus to what training needs: a tokenizer (trained, or one reused) and the
text as token ids split into training and validation parts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from desktop.core.train.bpe import train_bpe
from desktop.core.train.config import TrainConfig
from desktop.core.train.data import TokenData
from desktop.core.train.text_parts import text_parts
from desktop.core.train.trained_tokenizer import TrainedTokenizer


@dataclass(frozen=True, eq=False)
class Prepared:
    tokenizer: TrainedTokenizer
    data: TokenData

    @property
    def tokens(self) -> int:
        return len(self.data.train) + len(self.data.validation)


def prepare(
    text: str,
    config: TrainConfig,
    tokenizer: TrainedTokenizer | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Prepared:
    if tokenizer is None:
        tokenizer = train_bpe(text, config.vocab_size, progress=progress, cancelled=cancelled)
    ids = np.concatenate(  # in parts: one long tiktoken call would hold the GIL ~100 ms
        [np.asarray(tokenizer.encode(part), dtype=np.int32) for part in text_parts(text)]
    )
    return Prepared(tokenizer, TokenData.split(ids, config.validation_share, config.context))

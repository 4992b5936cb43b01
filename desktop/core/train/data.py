"""Token ids for pretraining: one long array, split into training and validation parts, and
random windows of it as batches (inputs, and the same window shifted by one as targets).
`TokenData` is the pretraining `DataSource`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop.core.train.batches import Batch

Ids = npt.NDArray[np.int32]


@dataclass(frozen=True, eq=False)
class TokenData:
    train: Ids
    validation: Ids

    @classmethod
    def split(cls, ids: Ids, validation_share: float, context: int) -> TokenData:
        """The last part is validation: text the model never trains on, so the gap between
        the two losses shows memorising rather than learning."""
        n_val = max(context + 2, int(len(ids) * validation_share))
        if len(ids) < n_val + context + 2:
            raise ValueError(
                f"the corpus is too short: {len(ids):,} tokens for a context of {context}"
            )
        return cls(ids[:-n_val], ids[-n_val:])

    def batch(
        self, rng: np.random.Generator, batch_size: int, context: int, *, validation: bool = False
    ) -> tuple[Ids, Ids]:
        ids = self.validation if validation else self.train
        starts = rng.integers(0, len(ids) - context - 1, size=batch_size)
        windows = np.stack([ids[s : s + context + 1] for s in starts])
        return windows[:, :-1], windows[:, 1:]

    # The `DataSource` protocol: every target counts (pretraining has no loss mask).

    def train_batch(self, rng: np.random.Generator, rows: int, context: int) -> Batch:
        return Batch(*self.batch(rng, rows, context))

    def eval_batch(
        self, rng: np.random.Generator, rows: int, context: int, *, validation: bool
    ) -> Batch:
        return Batch(*self.batch(rng, rows, context, validation=validation))


def bigram_loss(data: TokenData, vocab_size: int) -> float:
    """Validation cross-entropy of the best bigram model (next token from the current one,
    counted on the training part, add-one smoothed): the bar a transformer must clear to
    show it uses more than the previous token.

    Counts are kept per seen pair, not in a vocab x vocab table: with an 8192-token
    vocabulary that table alone would be 0.5 GB."""
    train, val = data.train.astype(np.int64), data.validation.astype(np.int64)
    seen, counts = np.unique(train[:-1] * vocab_size + train[1:], return_counts=True)
    row_totals = np.bincount(train[:-1], minlength=vocab_size) + vocab_size
    pairs = val[:-1] * vocab_size + val[1:]
    at = np.minimum(np.searchsorted(seen, pairs), len(seen) - 1)
    pair_counts = np.where(seen[at] == pairs, counts[at], 0) + 1
    return float(-np.log(pair_counts / row_totals[val[:-1]]).mean())

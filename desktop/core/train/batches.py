"""What one optimiser step learns from: a batch of token rows, and where batches come from.

Pretraining, supervised fine-tuning and reinforcement learning differ in their data, not
in their step: each row is a window of token ids, each position predicts the next id, and
a weight per position says how much that prediction counts — 1 everywhere for
pretraining, 1 on the assistant's tokens and 0 elsewhere for fine-tuning (a loss mask),
an advantage per token for a policy-gradient update. `run_training` takes any
`DataSource` and splits its batches into micro-batches (`Batch.parts`) sized to the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.integer[Any]]
Weights = npt.NDArray[np.floating[Any]]


@dataclass(frozen=True, eq=False)
class Batch:
    inputs: Ids  # (rows, time) token ids
    targets: Ids  # (rows, time): the id that should follow each input position
    weights: Weights | None = None  # (rows, time); None: every target counts once

    @property
    def rows(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def tokens(self) -> int:
        return int(self.inputs.size)

    @property
    def normaliser(self) -> float:
        """What the batch's summed loss is divided by: the total weight, so the loss is a
        mean per scored token whatever the mask."""
        return float(self.weights.sum()) if self.weights is not None else float(self.tokens)

    def parts(self, rows: int) -> list[Batch]:
        """Consecutive slices of at most `rows` rows (views, no copies)."""
        if rows >= self.rows:
            return [self]
        return [self._slice(start, start + rows) for start in range(0, self.rows, rows)]

    def _slice(self, start: int, stop: int) -> Batch:
        weights = self.weights[start:stop] if self.weights is not None else None
        return Batch(self.inputs[start:stop], self.targets[start:stop], weights)


class DataSource(Protocol):
    """Where a training run's batches come from. `rng` is the run's own generator (saved in
    its checkpoints), so a resumed run draws the same batches it would have drawn."""

    def train_batch(self, rng: np.random.Generator, rows: int, context: int) -> Batch: ...

    def eval_batch(
        self, rng: np.random.Generator, rows: int, context: int, *, validation: bool
    ) -> Batch:
        """A batch for measuring the loss: from held-out data with `validation`, else
        from the training data (the gap between the two shows memorising)."""
        ...

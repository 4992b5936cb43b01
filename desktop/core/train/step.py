"""One step's loss and gradients, computed in micro-batches (gradient accumulation).

The loss of a batch is a sum over its scored tokens divided by one normaliser (the batch's
total weight), so it splits exactly: each micro-batch's loss and gradients, divided by the
*whole* batch's normaliser, add up to the whole batch's — the same numbers up to float32
rounding, with a working set the size of one micro-batch. That is what keeps a step in
the CPU's cache, and what lets several threads compute micro-batches at once.

What is minimised is an `Objective`; next-token prediction with per-token weights covers
pretraining (weights 1), supervised fine-tuning (a loss mask) and policy-gradient RL
(advantages as weights). A reward model's scalar head would be another `Objective`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.train.batches import Batch
from desktop.core.train.model import Params, loss_and_grads, loss_only

T = TypeVar("T")


class Objective(Protocol):
    """A loss over one micro-batch, divided by `normaliser` (the whole batch's)."""

    def loss_and_grads(
        self, params: Params, shape: LlamaShape, batch: Batch, normaliser: float | None
    ) -> tuple[float, Params]: ...

    def loss(
        self, params: Params, shape: LlamaShape, batch: Batch, normaliser: float | None
    ) -> float: ...


class NextTokenLoss:
    """Weighted cross-entropy of each next token: the language-modelling objective."""

    def loss_and_grads(
        self, params: Params, shape: LlamaShape, batch: Batch, normaliser: float | None
    ) -> tuple[float, Params]:
        return loss_and_grads(params, shape, batch.inputs, batch.targets, batch.weights, normaliser)

    def loss(
        self, params: Params, shape: LlamaShape, batch: Batch, normaliser: float | None
    ) -> float:
        return loss_only(params, shape, batch.inputs, batch.targets, batch.weights, normaliser)


NEXT_TOKEN = NextTokenLoss()


class Accumulator:
    """Computes a batch's loss and gradients `micro_rows` rows at a time, on `workers`
    threads at once (numpy's matrix products and big element-wise loops release the GIL).
    The parts are always added in the same order, so a run is deterministic whatever the
    threads' timing. Close it (or use it as a context manager) to end its threads."""

    def __init__(self, objective: Objective, micro_rows: int, workers: int = 1) -> None:
        if micro_rows < 1 or workers < 1:
            raise ValueError("micro_rows and workers must be at least 1")
        self.objective, self.micro_rows, self.workers = objective, micro_rows, workers
        self._pool = ThreadPoolExecutor(workers, "train-worker") if workers > 1 else None

    def loss_and_grads(
        self, params: Params, shape: LlamaShape, batch: Batch
    ) -> tuple[float, Params]:
        parts = batch.parts(self.micro_rows)
        normaliser = _normaliser(batch, parts)
        total_loss, total = 0.0, None
        for loss, grads in self._map(
            lambda part: self.objective.loss_and_grads(params, shape, part, normaliser), parts
        ):
            total_loss += loss
            if total is None:
                total = grads  # fresh arrays from the backward pass: safe to add into
            else:
                for name, g in grads.items():
                    total[name] += g
        assert total is not None
        return total_loss, total

    def loss(self, params: Params, shape: LlamaShape, batch: Batch) -> float:
        parts = batch.parts(self.micro_rows)
        normaliser = _normaliser(batch, parts)
        losses = self._map(lambda part: self.objective.loss(params, shape, part, normaliser), parts)
        return float(sum(losses))

    def _map(self, work: Callable[[Batch], T], parts: list[Batch]) -> Iterator[T]:
        if self._pool is None or len(parts) == 1:
            return map(work, parts)
        return self._pool.map(work, parts)  # results in the parts' order

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> Accumulator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _normaliser(batch: Batch, parts: list[Batch]) -> float | None:
    """The whole batch's normaliser for its parts. One part without a denominator of its
    own: None, the plain mean, bit for bit what an unsplit step computes."""
    if len(parts) > 1 or batch.denominator is not None:
        return batch.normaliser
    return None

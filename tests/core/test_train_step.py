"""A step in micro-batches is the same step: accumulated gradients equal the whole batch's
(float32 rounding; float64 to 1e-12), with a loss mask too, on worker threads too; and
attention in query blocks is the same attention."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.train import layers
from desktop.core.train.batches import Batch
from desktop.core.train.model import init_params, loss_and_grads
from desktop.core.train.sampling import readable_text
from desktop.core.train.step import NEXT_TOKEN, Accumulator
from tests.core.test_train_model import (
    as_float64,
    assert_grad_close,
    numerical_grad,
    realistic_params,
    reference_attention,
)

# grouped-query attention, untied head, a context long enough for several query blocks
SHAPE = LlamaShape(
    vocab_size=97, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64, context_length=24
)


def batch_of(rows: int, seed: int = 0, weights: bool = False) -> Batch:
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, SHAPE.vocab_size, (rows, SHAPE.context_length))
    targets = rng.integers(0, SHAPE.vocab_size, (rows, SHAPE.context_length))
    mask = (rng.random((rows, SHAPE.context_length)) < 0.4).astype(np.float32) if weights else None
    return Batch(inputs, targets, mask)


def whole(params, batch: Batch):  # type: ignore[no-untyped-def]
    return loss_and_grads(params, SHAPE, batch.inputs, batch.targets, batch.weights)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize(("micro_rows", "workers"), [(1, 1), (3, 1), (2, 2), (5, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_accumulated_gradients_are_the_whole_batchs(
    micro_rows: int, workers: int, masked: bool
) -> None:
    params = realistic_params(SHAPE, seed=1)
    batch = batch_of(8, weights=masked)
    loss, grads = whole(params, batch)
    with Accumulator(NEXT_TOKEN, micro_rows, workers) as accumulator:
        parts_loss, parts = accumulator.loss_and_grads(params, SHAPE, batch)
        assert accumulator.loss(params, SHAPE, batch) == pytest.approx(loss, rel=1e-6)
    assert parts_loss == pytest.approx(loss, rel=1e-6)
    assert list(parts) == list(grads)
    for name in grads:
        assert parts[name].dtype == np.float32
        assert relative_error(parts[name], grads[name]) < 1e-5, name  # float32 rounding
    # The same sums in float64: equal to ~1e-15, so the maths is the same, not close.
    params64 = as_float64(params)
    _, grads64 = whole(params64, batch)
    with Accumulator(NEXT_TOKEN, micro_rows, workers) as accumulator:
        _, parts64 = accumulator.loss_and_grads(params64, SHAPE, batch)
    assert max(relative_error(parts64[k], grads64[k]) for k in grads64) < 1e-12


def test_one_part_is_the_plain_step_bit_for_bit() -> None:
    params = realistic_params(SHAPE, seed=2)
    batch = batch_of(4)
    loss, grads = whole(params, batch)
    with Accumulator(NEXT_TOKEN, micro_rows=4) as accumulator:
        same_loss, same = accumulator.loss_and_grads(params, SHAPE, batch)
    assert same_loss == loss
    assert all(np.array_equal(same[k], grads[k]) for k in grads)


def test_worker_threads_give_the_same_numbers_every_time() -> None:
    """The parts are added in a fixed order, whatever thread finishes first."""
    params = realistic_params(SHAPE, seed=3)
    batch = batch_of(8)
    with Accumulator(NEXT_TOKEN, 1, workers=4) as parallel:
        first = parallel.loss_and_grads(params, SHAPE, batch)
        again = parallel.loss_and_grads(params, SHAPE, batch)
    with Accumulator(NEXT_TOKEN, 1) as serial:
        alone = serial.loss_and_grads(params, SHAPE, batch)
    for other in (again, alone):
        assert other[0] == first[0]
        assert all(np.array_equal(other[1][k], first[1][k]) for k in first[1])


def test_masked_targets_teach_nothing() -> None:
    """Weight 0 (a loss mask) means the token's target does not matter at all; the loss
    is the mean over the scored tokens only."""
    params = realistic_params(SHAPE, seed=4)
    batch = batch_of(3, weights=True)
    assert batch.weights is not None
    other_targets = np.where(batch.weights > 0, batch.targets, (batch.targets + 7) % 97)
    loss, grads = whole(params, batch)
    loss2, grads2 = whole(params, Batch(batch.inputs, other_targets, batch.weights))
    assert loss == loss2 and all(np.array_equal(grads[k], grads2[k]) for k in grads)
    scored = batch.weights.astype(bool)
    per_token = [
        layers.cross_entropy_forward(logits[None, :], np.array([t]))[0]
        for logits, t in zip(_logits(params, batch)[scored], batch.targets[scored], strict=True)
    ]
    assert loss == pytest.approx(np.mean(per_token), rel=1e-5)


def _logits(params, batch: Batch) -> np.ndarray:  # type: ignore[no-untyped-def]
    from desktop.core.train.model import forward

    return forward(params, SHAPE, batch.inputs)[0].astype(np.float64)


def test_weighted_cross_entropy_backward() -> None:
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((6, 9))
    targets = rng.integers(0, 9, 6)
    weights = np.array([1.0, 0.0, 2.0, 0.5, 0.0, 1.0])

    def loss() -> float:
        return layers.cross_entropy_forward(logits, targets, weights, normaliser=7.0)[0]

    _, cache = layers.cross_entropy_forward(logits, targets, weights, normaliser=7.0)
    assert_grad_close(layers.cross_entropy_backward(cache), numerical_grad(loss, logits))
    empty = layers.cross_entropy_forward(logits, targets, np.zeros(6))
    assert empty[0] == 0.0 and not layers.cross_entropy_backward(empty[1]).any()


@pytest.mark.parametrize(("n_heads", "n_kv_heads"), [(4, 2), (4, 4), (4, 1)])
def test_attention_in_query_blocks_is_the_same_attention(n_heads: int, n_kv_heads: int) -> None:
    rng = np.random.default_rng(6)
    batch, time, dim = 2, 11, 16
    kv_dim = dim // n_heads * n_kv_heads
    x = rng.standard_normal((batch * time, dim))
    w = tuple(rng.standard_normal(s) * 0.5 for s in ((dim, dim), (kv_dim, dim), (kv_dim, dim)))
    w += (rng.standard_normal((dim, dim)) * 0.5,)
    rot = layers.rope_rotations(time, dim // n_heads, 10000.0, np.float64)
    r = rng.standard_normal((batch * time, dim))

    def run(block: int) -> tuple[np.ndarray, layers.AttentionCache]:
        return layers.attention_forward(x, *w, rot, batch, n_heads, n_kv_heads, block=block)

    one, one_cache = run(time)
    blocked, cache = run(3)  # blocks of 3, 3, 3, 2 query positions
    assert len(cache.probs) == 4 and len(one_cache.probs) == 1
    assert cache.probs[0].shape[-1] == 3 and cache.probs[-1].shape[-1] == time  # keys seen
    np.testing.assert_allclose(blocked, one, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(blocked, reference_attention(x, w, batch, n_heads, n_kv_heads,
                                                            10000.0))  # fmt: skip
    dx, dws = layers.attention_backward(r, cache)
    dx_one, dws_one = layers.attention_backward(r, one_cache)
    np.testing.assert_allclose(dx, dx_one, rtol=1e-12, atol=1e-12)
    for a, b in zip(dws, dws_one, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)

    def loss() -> float:
        return float(np.sum(run(3)[0] * r))

    assert_grad_close(dx, numerical_grad(loss, x))
    assert_grad_close(dws[1], numerical_grad(loss, w[1]))  # keys: gradient from every block


def test_a_model_with_long_context_uses_blocks_and_matches_one_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shape = replace(SHAPE, context_length=2 * layers.ATTENTION_BLOCK + 5)
    params = as_float64(init_params(shape, seed=7))
    tokens = np.random.default_rng(8).integers(0, shape.vocab_size, (1, shape.context_length))
    targets = np.roll(tokens, -1, axis=1)
    loss, grads = loss_and_grads(params, shape, tokens, targets)
    defaults = layers.attention_forward.__kwdefaults__
    assert defaults is not None and defaults["block"] < shape.context_length
    monkeypatch.setitem(defaults, "block", shape.context_length)  # one block: plain maths
    loss_one, grads_one = loss_and_grads(params, shape, tokens, targets)
    assert loss == pytest.approx(loss_one, rel=1e-13)
    assert max(relative_error(grads[k], grads_one[k]) for k in grads) < 1e-11


def test_samples_show_bytes_that_are_not_utf8_as_the_tokens_tab_does() -> None:
    emoji = "🙂".encode()
    assert readable_text(b"ok " + emoji[:2] + b" and " + "日本".encode() + b"\xff") == (
        "ok ‹F0 9F› and 日本‹FF›"
    )
    assert readable_text(b"plain\n  text") == "plain\n  text"
    assert "\ufffd" not in readable_text(emoji[1:] + emoji[:1])

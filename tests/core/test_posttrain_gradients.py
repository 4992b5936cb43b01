"""Fine-tuning's maths against finite differences (float64): LoRA's adapter gradients, the
masked loss, frozen weights — and that tokens outside the assistant's turns teach nothing."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.posttrain.lora import (
    A_SUFFIX,
    B_SUFFIX,
    LoraLoss,
    LoraSpec,
    init_adapters,
    merged_params,
)
from desktop.core.train.batches import Batch
from desktop.core.train.layers import cross_entropy_backward, cross_entropy_forward
from desktop.core.train.model import forward, loss_and_grads, loss_only
from tests.core.test_train_model import (
    as_float64,
    assert_grad_close,
    numerical_grad,
    realistic_params,
)

TIED = LlamaShape(
    vocab_size=13, dim=16, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=24, context_length=8,
    tie_embeddings=True,
)  # fmt: skip
ALL_TARGETS = LoraSpec(rank=3, alpha=5.0, targets=("attn_q", "attn_k", "attn_v", "attn_output",
                                                   "ffn_gate", "ffn_up", "ffn_down"))  # fmt: skip


def masked_batch(shape: LlamaShape, seed: int = 0) -> Batch:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, shape.vocab_size, size=(2, 7))
    targets = rng.integers(0, shape.vocab_size, size=(2, 7))
    weights = np.zeros((2, 7))
    weights[0, 3:6] = 1.0  # an assistant turn in the middle of row 0
    weights[1, 5:] = 1.0  # and at the end of row 1
    return Batch(tokens, targets, weights)


def some_adapters(spec: LoraSpec, base: dict[str, np.ndarray], shape: LlamaShape) -> dict:
    """Adapters after some training: B not zero, so both A's and B's gradients are alive."""
    adapters = as_float64(init_adapters(spec, base, shape, seed=1))
    rng = np.random.default_rng(2)
    for name in adapters:
        if name.endswith(B_SUFFIX):
            adapters[name] = rng.standard_normal(adapters[name].shape) * 0.3
    return adapters


@pytest.mark.parametrize("spec", [LoraSpec(rank=2, alpha=4.0), ALL_TARGETS])
def test_lora_gradients_match_finite_differences(spec: LoraSpec) -> None:
    base = as_float64(realistic_params(TIED, seed=3))
    adapters = some_adapters(spec, base, TIED)
    batch = masked_batch(TIED)
    objective = LoraLoss(spec, base)

    def loss() -> float:
        return objective.loss(adapters, TIED, batch, None)

    value, grads = objective.loss_and_grads(adapters, TIED, batch, None)
    assert value == pytest.approx(loss(), rel=1e-12)
    assert set(grads) == set(adapters)  # the frozen model gets no gradient
    rng = np.random.default_rng(4)
    for name in ("blk.0.attn_q.weight", "blk.1.attn_v.weight", f"blk.1.{spec.targets[-1]}.weight"):
        for suffix in (A_SUFFIX, B_SUFFIX):
            array = adapters[name + suffix]
            picks = [tuple(int(rng.integers(n)) for n in array.shape) for _ in range(6)]
            numeric = numerical_grad(loss, array, picks)
            analytic = grads[name + suffix]
            for idx in picks:
                assert_grad_close(np.array(analytic[idx]), np.array(numeric[idx]))


def test_lora_starts_at_the_loaded_model_and_merges_exactly() -> None:
    base = realistic_params(TIED, seed=5)
    spec = LoraSpec(rank=4, alpha=8.0)
    adapters = init_adapters(spec, base, TIED, seed=0)
    tokens = np.random.default_rng(0).integers(0, TIED.vocab_size, size=(1, 6))
    same = forward(merged_params(spec, base, adapters), TIED, tokens)[0]
    np.testing.assert_array_equal(same, forward(base, TIED, tokens)[0])  # B = 0: unchanged
    base64 = as_float64(base)
    adapters = some_adapters(spec, base64, TIED)
    merged = merged_params(spec, base64, adapters)
    name = "blk.1.attn_k.weight"
    expected = base64[name] + spec.scale * adapters[name + B_SUFFIX] @ adapters[name + A_SUFFIX]
    np.testing.assert_allclose(merged[name], expected)
    assert merged["blk.1.ffn_up.weight"] is base64["blk.1.ffn_up.weight"]  # not adapted: shared


def test_masked_loss_gradients_match_finite_differences() -> None:
    params = as_float64(realistic_params(TIED, seed=6))
    batch = masked_batch(TIED, seed=1)

    def loss() -> float:
        return loss_only(params, TIED, batch.inputs, batch.targets, batch.weights)

    _, grads = loss_and_grads(params, TIED, batch.inputs, batch.targets, batch.weights)
    rng = np.random.default_rng(7)
    for name in ("token_embd.weight", "blk.0.attn_output.weight", "blk.1.ffn_norm.weight"):
        picks = [tuple(int(rng.integers(n)) for n in params[name].shape) for _ in range(8)]
        numeric = numerical_grad(loss, params[name], picks)
        for idx in picks:
            assert_grad_close(np.array(grads[name][idx]), np.array(numeric[idx]))


def test_tokens_outside_assistant_turns_get_zero_gradient() -> None:
    """A position whose target is not the assistant's sends nothing back: its row of
    d loss / d logits is exactly zero, and changing that target changes nothing at all."""
    params = realistic_params(TIED, seed=8)
    batch = masked_batch(TIED, seed=2)
    logits, _ = forward(params, TIED, batch.inputs)
    flat_weights = batch.weights.reshape(-1).astype(np.float32)
    _, cache = cross_entropy_forward(logits.reshape(-1, TIED.vocab_size),
                                     batch.targets.reshape(-1), flat_weights)  # fmt: skip
    dlogits = cross_entropy_backward(cache)
    assert np.all(dlogits[flat_weights == 0] == 0.0)
    assert np.all(np.abs(dlogits[flat_weights == 1]).sum(axis=1) > 0)

    other = batch.targets.copy()
    other[batch.weights == 0] = (other[batch.weights == 0] + 1) % TIED.vocab_size
    loss_a, grads_a = loss_and_grads(params, TIED, batch.inputs, batch.targets, batch.weights)
    loss_b, grads_b = loss_and_grads(params, TIED, batch.inputs, other, batch.weights)
    assert loss_a == loss_b
    for name in grads_a:
        np.testing.assert_array_equal(grads_a[name], grads_b[name])


def test_frozen_weights_leave_the_others_gradients_unchanged() -> None:
    params = realistic_params(TIED, seed=9)
    batch = masked_batch(TIED, seed=3)
    _, everything = loss_and_grads(params, TIED, batch.inputs, batch.targets, batch.weights)
    wanted = {"blk.0.attn_q.weight", "blk.1.ffn_down.weight", "token_embd.weight"}
    _, some = loss_and_grads(params, TIED, batch.inputs, batch.targets, batch.weights,
                             trainable=wanted)  # fmt: skip
    assert set(some) == wanted
    for name in wanted:
        np.testing.assert_allclose(some[name], everything[name], rtol=1e-6, atol=1e-7)


def test_greedy_decoding_with_a_kv_cache_follows_the_models_own_logits() -> None:
    from desktop.core.train.kv_decode import greedy

    params = realistic_params(TIED, seed=11)
    tokens = [3, 1, 4]
    reply = greedy(params, TIED, tokens, frozenset(), 5)
    expected = list(tokens)
    for _ in range(5):
        expected.append(int(np.argmax(forward(params, TIED, np.asarray([expected]))[0][0, -1])))
    assert reply == expected[3:]
    stop = expected[-1]  # the end token is left out, and nothing after it is made
    assert greedy(params, TIED, tokens, frozenset({stop}), 5) == reply[: reply.index(stop)]

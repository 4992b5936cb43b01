"""The numpy llama: every hand-written backward against finite differences, a tiny run that
learns, exact reproducibility, and the same logits as llama.cpp running the exported GGUF."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from desktop.core.models.bpe_vocab import byte_level_bpe_vocab
from desktop.core.models.gguf_writer import LlamaShape, expected_tensor_shapes, write_llama_gguf
from desktop.core.train import layers
from desktop.core.train.model import (
    forward,
    init_params,
    loss_and_grads,
    loss_only,
    parameter_count,
)
from desktop.core.train.optim import AdamW, clip_grad_norm, global_grad_norm, learning_rate_at
from tests.llama_child import in_child, llama_logits

# 2 layers, grouped-query attention (2 query heads per key/value head), untied head.
TINY = LlamaShape(
    vocab_size=11, dim=16, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=24, context_length=8
)


def numerical_grad(
    f: Callable[[], float], x: np.ndarray, indices: list[tuple[int, ...]] | None = None
) -> np.ndarray:
    """Central differences (f(x + h) - f(x - h)) / 2h, entry by entry, in float64."""
    assert x.dtype == np.float64
    h = 1e-6
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape) if indices is None else indices:
        old = x[idx]
        x[idx] = old + h
        plus = f()
        x[idx] = old - h
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def assert_grad_close(analytic: np.ndarray, numeric: np.ndarray) -> None:
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def as_float64(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: p.astype(np.float64) for name, p in params.items()}


def realistic_params(shape: LlamaShape, seed: int) -> dict[str, np.ndarray]:
    """Weights at the scale of a trained model (logits of several units, sharp attention),
    not init_params' near-zero start, so a comparison of logits means something."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, dims in expected_tensor_shapes(shape).items():
        if len(dims) == 1:
            params[name] = 1.0 + 0.3 * rng.standard_normal(dims)
        else:
            sharp = 2.0 if ("attn_q" in name or "attn_k" in name) else 1.0
            params[name] = rng.standard_normal(dims) * sharp / math.sqrt(dims[1])
    return {name: p.astype(np.float32) for name, p in params.items()}


# --- each layer's backward against finite differences (float64) ---


def test_rmsnorm_backward() -> None:
    rng = np.random.default_rng(0)
    x, w, r = rng.standard_normal((5, 8)), rng.standard_normal(8), rng.standard_normal((5, 8))

    def loss() -> float:
        return float(np.sum(layers.rmsnorm_forward(x, w, 1e-5)[0] * r))

    y, cache = layers.rmsnorm_forward(x, w, 1e-5)
    np.testing.assert_allclose(y, x / np.sqrt(np.mean(x**2, axis=1, keepdims=True) + 1e-5) * w)
    dx, dw = layers.rmsnorm_backward(r, cache)
    assert_grad_close(dx, numerical_grad(loss, x))
    assert_grad_close(dw, numerical_grad(loss, w))


def test_rope_rotates_adjacent_pairs_like_llama_cpp() -> None:
    """Pair j = (x[2j], x[2j+1]) at position p turns by p * theta ** (-2j / head_dim)."""
    rng = np.random.default_rng(1)
    time, head_dim, theta = 5, 8, 500.0
    x = rng.standard_normal((2, 3, time, head_dim))
    out = layers.rope_forward(x, layers.rope_rotations(time, head_dim, theta, np.float64))
    for p in range(time):
        for j in range(head_dim // 2):
            angle = p * theta ** (-2 * j / head_dim)
            a, b = x[..., p, 2 * j], x[..., p, 2 * j + 1]
            np.testing.assert_allclose(
                out[..., p, 2 * j], a * math.cos(angle) - b * math.sin(angle)
            )
            np.testing.assert_allclose(
                out[..., p, 2 * j + 1], a * math.sin(angle) + b * math.cos(angle)
            )


def test_rope_backward_and_strided_input() -> None:
    rng = np.random.default_rng(2)
    rot = layers.rope_rotations(4, 6, 10000.0, np.float64)
    x, r = rng.standard_normal((2, 3, 4, 6)), rng.standard_normal((2, 3, 4, 6))

    def loss() -> float:
        return float(np.sum(layers.rope_forward(x, rot) * r))

    assert_grad_close(layers.rope_backward(r, rot), numerical_grad(loss, x))
    # A transposed view in, a C-contiguous array with the same values out.
    view = rng.standard_normal((2, 4, 3, 6)).swapaxes(1, 2)
    out = layers.rope_forward(view, rot)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, layers.rope_forward(np.ascontiguousarray(view), rot))


def reference_attention(
    x: np.ndarray, w: Sequence[np.ndarray], batch: int, n_heads: int, n_kv_heads: int, theta: float
) -> np.ndarray:
    """The same maths head by head, with loops: the vectorised version must agree."""
    wq, wk, wv, wo = w
    n_tokens, dim = x.shape
    time, hd = n_tokens // batch, dim // n_heads
    rot = layers.rope_rotations(time, hd, theta, np.float64)
    out = np.zeros((batch, time, dim))
    for b in range(batch):
        xb = x[b * time : (b + 1) * time]
        q, k, v = xb @ wq.T, xb @ wk.T, xb @ wv.T
        for h in range(n_heads):
            g = h // (n_heads // n_kv_heads)  # the key/value head this query head reads
            qh = layers.rope_forward(np.ascontiguousarray(q[:, h * hd : (h + 1) * hd]), rot)
            kh = layers.rope_forward(np.ascontiguousarray(k[:, g * hd : (g + 1) * hd]), rot)
            scores = qh @ kh.T / math.sqrt(hd)
            scores[np.triu_indices(time, 1)] = -np.inf
            probs = np.exp(scores - scores.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            out[b, :, h * hd : (h + 1) * hd] = probs @ v[:, g * hd : (g + 1) * hd]
    result: np.ndarray = out.reshape(n_tokens, dim) @ wo.T
    return result


def attend(
    x: np.ndarray, w: Sequence[np.ndarray], rot: np.ndarray, batch: int, heads: int, kv_heads: int
) -> tuple[np.ndarray, layers.AttentionCache]:
    wq, wk, wv, wo = w
    return layers.attention_forward(x, wq, wk, wv, wo, rot, batch, heads, kv_heads)


@pytest.mark.parametrize(("n_heads", "n_kv_heads"), [(4, 2), (4, 4), (4, 1)])
def test_attention_forward_and_backward(n_heads: int, n_kv_heads: int) -> None:
    rng = np.random.default_rng(3)
    batch, time, dim, theta = 2, 5, 16, 10000.0
    kv_dim = dim // n_heads * n_kv_heads
    x = rng.standard_normal((batch * time, dim))
    w = tuple(rng.standard_normal(s) * 0.5 for s in ((dim, dim), (kv_dim, dim), (kv_dim, dim)))
    w += (rng.standard_normal((dim, dim)) * 0.5,)
    r = rng.standard_normal((batch * time, dim))
    rot = layers.rope_rotations(time, dim // n_heads, theta, np.float64)

    def run() -> np.ndarray:
        return attend(x, w, rot, batch, n_heads, n_kv_heads)[0]

    def loss() -> float:
        return float(np.sum(run() * r))

    np.testing.assert_allclose(run(), reference_attention(x, w, batch, n_heads, n_kv_heads, theta))
    _, cache = attend(x, w, rot, batch, n_heads, n_kv_heads)
    dx, dws = layers.attention_backward(r, cache)
    assert_input_and_weight_grads(loss, dx, x, dws, w)


def assert_input_and_weight_grads(loss, dx, x, dws, weights) -> None:  # type: ignore[no-untyped-def]
    """A layer's backward against central differences, for its input and each weight."""
    assert_grad_close(dx, numerical_grad(loss, x))
    for analytic, weight in zip(dws, weights, strict=True):
        assert_grad_close(analytic, numerical_grad(loss, weight))


def test_attention_is_causal() -> None:
    rng = np.random.default_rng(4)
    batch, time, dim = 1, 6, 8
    w = [rng.standard_normal((dim, dim)) for _ in range(4)]
    rot = layers.rope_rotations(time, 4, 10000.0, np.float64)
    x = rng.standard_normal((time, dim))
    y = attend(x, w, rot, batch, 2, 2)[0]
    x[4:] += 1.0  # change the last two positions
    changed = attend(x, w, rot, batch, 2, 2)[0]
    np.testing.assert_array_equal(changed[:4], y[:4])
    assert not np.allclose(changed[4:], y[4:])


def test_swiglu_backward() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 8)) * 2
    w = [rng.standard_normal((12, 8)), rng.standard_normal((12, 8)), rng.standard_normal((8, 12))]
    r = rng.standard_normal((6, 8))

    def loss() -> float:
        return float(np.sum(layers.swiglu_forward(x, *w)[0] * r))

    gate, up = x @ w[0].T, x @ w[1].T
    expected = (gate / (1 + np.exp(-gate)) * up) @ w[2].T
    y, cache = layers.swiglu_forward(x, *w)
    np.testing.assert_allclose(y, expected)
    dx, dws = layers.swiglu_backward(r, cache)
    assert_input_and_weight_grads(loss, dx, x, dws, w)


def test_cross_entropy_backward() -> None:
    rng = np.random.default_rng(6)
    logits, targets = rng.standard_normal((5, 7)) * 3, rng.integers(0, 7, 5)

    def loss() -> float:
        return layers.cross_entropy_forward(logits, targets)[0]

    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert math.isclose(loss(), -log_probs[np.arange(5), targets].mean(), rel_tol=1e-12)
    assert_grad_close(
        layers.cross_entropy_backward(layers.cross_entropy_forward(logits, targets)[1]),
        numerical_grad(loss, logits),
    )


# --- the whole model ---


@pytest.mark.parametrize("tie", [False, True])
def test_model_gradients_match_finite_differences(tie: bool) -> None:
    shape = replace(TINY, tie_embeddings=tie)
    params = as_float64(realistic_params(shape, seed=7))
    rng = np.random.default_rng(8)
    tokens = rng.integers(0, shape.vocab_size, (2, 6))
    targets = rng.integers(0, shape.vocab_size, (2, 6))

    def loss() -> float:
        return loss_only(params, shape, tokens, targets)

    value, grads = loss_and_grads(params, shape, tokens, targets)
    assert value == loss()
    assert list(grads) == list(params)
    for name, p in params.items():
        assert grads[name].shape == p.shape
        picks = [tuple(int(rng.integers(0, n)) for n in p.shape) for _ in range(4)]
        if name == "token_embd.weight":  # rows of tokens that occur, and of one that may not
            picks += [(int(tokens[0, 0]), 3), (int(tokens[1, 5]), 0), (shape.vocab_size - 1, 1)]
        numeric = numerical_grad(loss, p, picks)
        assert_grad_close(
            np.array([grads[name][i] for i in picks]), np.array([numeric[i] for i in picks])
        )


def test_parameters_are_the_gguf_tensors_in_float32() -> None:
    for shape in (TINY, replace(TINY, tie_embeddings=True)):
        params = init_params(shape, seed=0)
        assert {k: v.shape for k, v in params.items()} == expected_tensor_shapes(shape)
        assert list(params) == list(expected_tensor_shapes(shape))
        assert all(p.dtype == np.float32 for p in params.values())
        assert parameter_count(shape) == sum(p.size for p in params.values())
    assert parameter_count(TINY) - parameter_count(replace(TINY, tie_embeddings=True)) == 11 * 16


def test_init_is_deterministic_small_and_float32_throughout() -> None:
    a, b, c = init_params(TINY, seed=1), init_params(TINY, seed=1), init_params(TINY, seed=2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["blk.0.attn_q.weight"], c["blk.0.attn_q.weight"])
    assert np.all(a["blk.1.ffn_norm.weight"] == 1.0)
    assert 0.015 < a["output.weight"].std() < 0.025
    assert a["blk.0.ffn_down.weight"].std() < a["blk.0.ffn_up.weight"].std()  # residual scaling
    tokens = np.arange(12).reshape(2, 6) % TINY.vocab_size
    logits, _ = forward(a, TINY, tokens)
    assert logits.shape == (2, 6, TINY.vocab_size) and logits.dtype == np.float32
    loss, grads = loss_and_grads(a, TINY, tokens, np.roll(tokens, -1, axis=1))
    assert all(g.dtype == np.float32 for g in grads.values())
    assert abs(loss - math.log(TINY.vocab_size)) < 0.05  # near-uniform predictions at first


def test_model_is_causal() -> None:
    params = realistic_params(TINY, seed=9)
    tokens = np.array([[1, 2, 3, 4, 5, 6]])
    logits, _ = forward(params, TINY, tokens)
    changed, _ = forward(params, TINY, np.array([[1, 2, 3, 4, 9, 9]]))
    np.testing.assert_array_equal(changed[0, :4], logits[0, :4])
    assert not np.allclose(changed[0, 4:], logits[0, 4:])


# --- training ---

LEARN_SHAPE = LlamaShape(
    vocab_size=128, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64, context_length=16
)


def train(seed: int, steps: int) -> list[float]:
    """AdamW on random windows of "abcabc...", as bytes: the smallest real training run."""
    corpus = np.frombuffer(b"abc" * 200, dtype=np.uint8).astype(np.int64)
    rng = np.random.default_rng(seed)
    params = init_params(LEARN_SHAPE, seed)
    optimizer = AdamW(params, weight_decay=0.01)
    losses = []
    for step in range(steps):
        starts = rng.integers(0, len(corpus) - 17, size=4)
        windows = np.stack([corpus[s : s + 17] for s in starts])
        loss, grads = loss_and_grads(params, LEARN_SHAPE, windows[:, :-1], windows[:, 1:])
        clip_grad_norm(grads, 1.0)
        lr = learning_rate_at(step, max_lr=1e-2, min_lr=1e-3, warmup_steps=10, total_steps=steps)
        optimizer.step(params, grads, lr)
        losses.append(loss)
    return losses


def test_training_learns_a_repetitive_text() -> None:
    losses = train(seed=0, steps=150)
    assert losses[0] > 4.0  # ~log(128): knows nothing
    assert max(losses[-10:]) < 0.05  # then predicts every next letter


def test_same_seed_same_losses() -> None:
    first, again, other = train(seed=3, steps=12), train(seed=3, steps=12), train(seed=4, steps=12)
    assert first == again
    assert first != other


# --- the optimiser ---


def test_learning_rate_schedule() -> None:
    def lr(step: int) -> float:
        return learning_rate_at(step, max_lr=1.0, min_lr=0.1, warmup_steps=10, total_steps=110)

    assert [lr(s) for s in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])  # linear warmup
    assert lr(10) == pytest.approx(1.0)
    assert lr(60) == pytest.approx(0.55)  # halfway down the cosine
    assert lr(110) == lr(500) == pytest.approx(0.1)
    assert all(lr(s) >= lr(s + 1) for s in range(10, 120))


def test_clip_grad_norm() -> None:
    grads = {"a": np.full((2, 2), 3.0, np.float32), "b": np.full(1, 4.0, np.float32)}
    norm = clip_grad_norm(grads, max_norm=2.0)
    assert norm == pytest.approx(math.sqrt(4 * 9 + 16))
    assert global_grad_norm(grads) == pytest.approx(2.0, rel=1e-5)
    assert grads["a"].dtype == np.float32
    untouched = {"a": np.ones(4, np.float32)}
    assert clip_grad_norm(untouched, max_norm=5.0) == pytest.approx(2.0)
    np.testing.assert_array_equal(untouched["a"], 1.0)


def test_adamw_first_step_and_decoupled_decay() -> None:
    params = {"w": np.full((2, 3), 2.0, np.float32), "norm": np.full(3, 2.0, np.float32)}
    grads = {
        "w": np.array([[1, -1, 0.1], [-0.1, 5, -5]], np.float32),
        "norm": np.ones(3, np.float32),
    }
    optimizer = AdamW(params, weight_decay=0.5)
    optimizer.step(params, grads, lr=0.01)
    # Bias-corrected, Adam's first step is lr * sign(g) for every weight, whatever |g|.
    np.testing.assert_allclose(
        params["w"], 2.0 * (1 - 0.01 * 0.5) - 0.01 * np.sign(grads["w"]), rtol=1e-6
    )
    np.testing.assert_allclose(params["norm"], 2.0 - 0.01, rtol=1e-6)  # norms: no decay
    assert optimizer.steps == 1 and params["w"].dtype == np.float32
    zero = {name: np.zeros_like(p) for name, p in params.items()}
    before = {name: p.copy() for name, p in params.items()}
    AdamW(params, weight_decay=0.5).step(params, zero, lr=0.1)
    np.testing.assert_allclose(params["w"], before["w"] * 0.95, rtol=1e-6)
    np.testing.assert_array_equal(params["norm"], before["norm"])


# --- the same logits in llama.cpp ---

LOGIT_PARITY = 1e-4
PARITY_SHAPE = LlamaShape(
    vocab_size=300, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=96, context_length=32
)


@pytest.mark.parametrize(
    "shape",
    [
        PARITY_SHAPE,
        replace(PARITY_SHAPE, tie_embeddings=True, rope_theta=100000.0, norm_eps=1e-6),
    ],
    ids=["untied", "tied-theta1e5-eps1e-6"],
)
def test_llama_cpp_computes_the_same_logits(tmp_path: Path, shape: LlamaShape) -> None:
    params = realistic_params(shape, seed=10)
    tokens = np.random.default_rng(11).integers(0, shape.vocab_size, shape.context_length)
    ours, _ = forward(params, shape, tokens[None, :])
    path = tmp_path / "model.gguf"
    write_llama_gguf(path, shape, params, byte_level_bpe_vocab(shape.vocab_size), file_type="F32")
    theirs = in_child(llama_logits, str(path), tokens.tolist())
    assert ours[0].std() > 1.0  # logits of a realistic size, not all near 0
    # measured: ~1.5e-5 (float32 in a different order); a real mismatch is far larger
    assert np.abs(theirs - ours[0]).max() <= LOGIT_PARITY

"""The building blocks of a llama transformer, each as a forward/backward pair.

Every `*_forward` returns its output and a small cache of what the matching `*_backward`
needs; every `*_backward` takes the gradient of the loss with respect to the output
(`dy`, "upstream gradient") and returns the gradients with respect to the inputs and
weights. Chaining the backwards in reverse order is backpropagation.

Conventions (the same as llama.cpp's, so a trained model runs there unchanged):

* activations are 2-D `(tokens, features)` wherever possible: one big matrix product is
  much faster than many small ones;
* a weight `W` has numpy shape `(out_features, in_features)` and is applied as `x @ W.T`,
  so its gradient is `dy.T @ x` and the input's gradient is `dy @ W`;
* attention works on `(batch, heads, time, head_dim)` arrays.

The code does not fix a float type: float32 for training (fast), float64 for the tests'
finite-difference gradient checks (exact enough). Only Python floats are mixed in, which
never change an array's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.integer[Any]]
ComplexArray = npt.NDArray[np.complexfloating[Any, Any]]


# --- RMSNorm: y = x / sqrt(mean(x**2) + eps) * w ---


@dataclass
class RMSNormCache:
    x_hat: Array  # x / rms(x): the normalised input, before the weight
    inv_rms: Array  # 1 / sqrt(mean(x**2) + eps), one per row, shape (rows, 1)
    w: Array


def rmsnorm_forward(x: Array, w: Array, eps: float) -> tuple[Array, RMSNormCache]:
    """Scale each row of `x` (tokens, features) to root-mean-square 1, then multiply by `w`.

    Unlike LayerNorm there is no mean subtraction and no bias. `eps` sits inside the
    square root, as in llama.cpp's `ggml_rms_norm`.
    """
    mean_square = np.einsum("ij,ij->i", x, x) / x.shape[-1]  # row-wise dot products
    inv_rms = 1.0 / np.sqrt(mean_square + eps)[:, None]
    x_hat = x * inv_rms
    return x_hat * w, RMSNormCache(x_hat, inv_rms, w)


def rmsnorm_backward(dy: Array, cache: RMSNormCache) -> tuple[Array, Array]:
    """Returns (dx, dw).

    With x_hat = x * r and r = (mean(x**2) + eps) ** -1/2, differentiating gives
    dx = r * (g - x_hat * mean(g * x_hat)) where g = dy * w: the gradient `g`, minus its
    component along x_hat (scaling x does not change x_hat), times r.
    """
    x_hat = cache.x_hat
    dw = np.einsum("ij,ij->j", dy, x_hat)  # sum over rows of dy * x_hat
    g = dy * cache.w
    along = np.einsum("ij,ij->i", g, x_hat)[:, None] / g.shape[-1]
    dx = x_hat * along
    np.subtract(g, dx, out=dx)
    dx *= cache.inv_rms
    return dx, dw


# --- Rotary position embedding (rope), llama.cpp's "normal" kind ---


def rope_rotations(
    n_positions: int, head_dim: int, theta: float, dtype: npt.DTypeLike = np.float32
) -> ComplexArray:
    """The unit complex numbers e^(i·angle) that rope multiplies by, (n_positions, head_dim // 2).

    Pair j of a head (dimensions 2j and 2j+1) at position p turns by the angle
    p * theta ** (-2j / head_dim): the first pairs spin fast (fine position detail), the
    last ones slowly (coarse position). Computed in float64, rounded once to complex64 for
    float32 activations (complex128 for float64).
    """
    inv_freq = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.outer(np.arange(n_positions, dtype=np.float64), inv_freq)
    rotations: ComplexArray = np.exp(1j * angles).astype(np.result_type(dtype, np.complex64))
    return rotations


def rope_forward(x: Array, rotations: ComplexArray) -> Array:
    """Rotate each adjacent pair (x[2j], x[2j+1]) of the last axis by its position's angle.

    Read the pair as one complex number x[2j] + i·x[2j+1]: turning it by an angle is
    multiplying by e^(i·angle), i.e. (a, b) -> (a cos - b sin, a sin + b cos). This makes
    q·k depend only on the distance between two positions. (Meta's original llama code does
    it the same way.) `x` is (..., time, head_dim) and `rotations` (time, head_dim // 2), or
    anything that broadcasts like them. Only the last axis of `x` must be contiguous; the
    result is always a new C-contiguous array in `x`'s axis order, which is how callers get
    a transposed copy for free.
    """
    if rotations.dtype.itemsize != 2 * x.dtype.itemsize:
        raise ValueError(f"{rotations.dtype} rotations do not fit {x.dtype} activations")
    pairs = x.view(rotations.dtype)  # (..., time, head_dim // 2), no copy
    return np.multiply(pairs, rotations, order="C").view(x.dtype)


def rope_backward(dy: Array, rotations: ComplexArray) -> Array:
    """A rotation's gradient is the inverse rotation: multiply by the conjugate e^(-i·angle)."""
    return rope_forward(dy, rotations.conj())


# --- Causal multi-head attention with rope and grouped-query attention ---

ATTENTION_BLOCK = 64  # query positions per block (see `attention_forward`)


@dataclass
class AttentionCache:
    x: Array  # input (tokens, dim)
    wq: Array
    wk: Array
    wv: Array
    wo: Array
    rotations: ComplexArray
    q: Array  # roped and scaled queries, (batch, kv_heads, group * time, head_dim)
    k_t: Array  # roped keys, transposed: (batch, kv_heads, head_dim, time)
    v: Array  # values, (batch, kv_heads, time, head_dim)
    probs: list[Array]  # attention weights per query block: (batch, kv_heads, group * rows, keys)
    block: int  # query positions per block
    mixed: Array  # attention output before wo, (tokens, dim)


def causal_mask(n: int, dtype: npt.DTypeLike) -> Array:
    """0 where query t may look at key s (s <= t), -inf where it may not (the future)."""
    return np.triu(np.full((n, n), -np.inf, dtype=dtype), k=1)


def query_blocks(time: int, block: int) -> list[tuple[int, int]]:
    """(start, stop) of each block of query positions."""
    return [(start, min(time, start + block)) for start in range(0, time, block)]


def _query_rows(q: Array, group: int, start: int, stop: int) -> Array:
    """Positions start:stop of every query head of each group, stacked as in `q`:
    (batch, kv_heads, group * (stop - start), head_dim). A view when group is 1."""
    batch, kv_heads, group_time, head_dim = q.shape
    if group == 1:
        return q[:, :, start:stop]
    per_head = q.reshape(batch, kv_heads, group, group_time // group, head_dim)
    return per_head[:, :, :, start:stop].reshape(batch, kv_heads, -1, head_dim)


def attention_forward(
    x: Array,
    wq: Array,
    wk: Array,
    wv: Array,
    wo: Array,
    rotations: ComplexArray,
    batch: int,
    n_heads: int,
    n_kv_heads: int,
    *,
    block: int = ATTENTION_BLOCK,
) -> tuple[Array, AttentionCache]:
    """softmax(q k^T / sqrt(head_dim) + causal mask) v, for every head, then `wo`.

    `x` is (batch * time, dim). Grouped-query attention: `n_heads` query heads share
    `n_kv_heads` key/value heads, query head h using key/value head h // group (as
    llama.cpp broadcasts). Stacking a group's queries into one tall matrix (group * time
    rows) lets one matrix product serve the whole group.

    Queries go `block` positions at a time, each block against only the keys it may see
    (0 up to its last position): on a long context that skips the masked upper triangle
    of the scores, nearly half the work, and keeps each block's scores small enough to
    stay in the cache through the softmax's passes. The result is the same: a query's
    softmax runs over exactly the keys it could see anyway.
    """
    n_tokens, dim = x.shape
    time, head_dim = n_tokens // batch, dim // n_heads
    group = n_heads // n_kv_heads

    def split_heads(a: Array, n: int) -> Array:
        """(tokens, n * head_dim) -> a (batch, n, time, head_dim) view."""
        return a.reshape(batch, time, n, head_dim).swapaxes(1, 2)

    q = rope_forward(split_heads(x @ wq.T, n_heads), rotations)
    k = rope_forward(split_heads(x @ wk.T, n_kv_heads), rotations)
    v = split_heads(x @ wv.T, n_kv_heads)
    q *= head_dim**-0.5  # scaling q (small) instead of the scores (large) is the same maths
    q = q.reshape(batch, n_kv_heads, group * time, head_dim)  # free: q is contiguous
    k_t = np.ascontiguousarray(k.swapaxes(-1, -2))  # BLAS multiplies this layout fastest

    mask = causal_mask(time, x.dtype)
    out = np.empty((batch, n_kv_heads, group, time, head_dim), dtype=x.dtype)
    probs_blocks = []
    for start, stop in query_blocks(time, block):
        rows = stop - start
        scores = _query_rows(q, group, start, stop) @ k_t[..., :stop]  # (.., group*rows, stop)
        per_head = scores.reshape(batch, n_kv_heads, group, rows, stop)  # a view
        per_head += mask[start:stop, :stop]
        probs = softmax_(scores)
        out[:, :, :, start:stop] = (probs @ v[:, :, :stop]).reshape(*per_head.shape[:-1], -1)
        probs_blocks.append(probs)

    # Back to (tokens, dim) with the heads side by side, then the output projection.
    mixed = out.reshape(batch, n_heads, time, head_dim).swapaxes(1, 2).reshape(n_tokens, dim)
    cache = AttentionCache(x, wq, wk, wv, wo, rotations, q, k_t, v, probs_blocks, block, mixed)
    return mixed @ wo.T, cache


def attention_backward(
    dy: Array, cache: AttentionCache, want: tuple[bool, bool, bool, bool] = (True,) * 4
) -> tuple[Array, tuple[Array | None, Array | None, Array | None, Array | None]]:
    """Returns (dx, (dwq, dwk, dwv, dwo)), running `attention_forward` backwards, block by
    block: a block's keys and values get gradient from every later block too.

    `want` says which weight gradients to compute (q, k, v, o); the others come back None.
    A frozen weight (fine-tuning with LoRA) still passes the gradient on to `x`, but its
    own gradient — a matrix product as big as the forward's — is skipped."""
    c = cache
    batch, n_kv_heads, group_time, head_dim = c.q.shape
    n_tokens, dim = c.x.shape
    time, n_heads = n_tokens // batch, dim // head_dim
    group = group_time // time

    # y = mixed @ wo.T
    dwo = dy.T @ c.mixed if want[3] else None
    dout = (
        (dy @ c.wo)
        .reshape(batch, time, n_heads, head_dim)
        .swapaxes(1, 2)
        .reshape(batch, n_kv_heads, group_time, head_dim)  # copies into head order
    )
    v_t = np.ascontiguousarray(c.v.swapaxes(-1, -2))
    k = c.k_t.swapaxes(-1, -2)
    dq = np.empty((batch, n_kv_heads, group, time, head_dim), dtype=dy.dtype)
    dk = np.zeros((batch, n_kv_heads, time, head_dim), dtype=dy.dtype)
    dv = np.zeros_like(dk)
    for (start, stop), probs in zip(query_blocks(time, c.block), c.probs, strict=True):
        dout_rows = _query_rows(dout, group, start, stop)
        # out = probs @ v
        dprobs = dout_rows @ v_t[..., :stop]
        dv[:, :, :stop] += probs.swapaxes(-1, -2) @ dout_rows  # sums over the group by itself
        dscores = softmax_backward_(dprobs, probs)  # masked entries get 0: their prob is 0
        # scores = q @ k^T with q already scaled by 1 / sqrt(head_dim)
        dq_rows = dscores @ k[:, :, :stop]
        dq[:, :, :, start:stop] = dq_rows.reshape(batch, n_kv_heads, group, stop - start, -1)
        dk[:, :, :stop] += dscores.swapaxes(-1, -2) @ _query_rows(c.q, group, start, stop)
    dq *= head_dim**-0.5

    # Undo the rotations. Rotating the (batch, time, heads, head_dim) views writes the
    # results straight back in (tokens, features) order.
    per_token = c.rotations[:, None, :]  # broadcasts over the heads axis
    dq_tokens = rope_backward(dq.reshape(batch, n_heads, time, head_dim).swapaxes(1, 2), per_token)
    dk_tokens = rope_backward(dk.swapaxes(1, 2), per_token)
    dq_flat = dq_tokens.reshape(n_tokens, dim)
    dk_flat = dk_tokens.reshape(n_tokens, n_kv_heads * head_dim)
    dv_flat = dv.swapaxes(1, 2).reshape(n_tokens, n_kv_heads * head_dim)

    # q = x @ wq.T, k = x @ wk.T, v = x @ wv.T: x feeds all three, so its gradients add up.
    dx = dq_flat @ c.wq
    dx += dk_flat @ c.wk
    dx += dv_flat @ c.wv
    dwq = dq_flat.T @ c.x if want[0] else None
    dwk = dk_flat.T @ c.x if want[1] else None
    dwv = dv_flat.T @ c.x if want[2] else None
    return dx, (dwq, dwk, dwv, dwo)


def softmax_(scores: Array) -> Array:
    """Softmax over the last axis, overwriting `scores` (they are not needed afterwards).

    Subtracting the row maximum first keeps exp() from overflowing; it cancels out.
    """
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


def softmax_backward_(dp: Array, p: Array) -> Array:
    """d scores = p * (dp - sum(dp * p)), row by row; overwrites and returns `dp`."""
    dp -= np.einsum("...ij,...ij->...i", dp, p)[..., None]
    dp *= p
    return dp


# --- SwiGLU feed-forward: y = w_down(silu(w_gate x) * w_up x) ---


@dataclass
class SwiGLUCache:
    x: Array
    w_gate: Array
    w_up: Array
    w_down: Array
    sig: Array  # sigmoid(x @ w_gate.T)
    silu: Array  # (x @ w_gate.T) * sig
    up: Array  # x @ w_up.T
    hidden: Array  # silu(gate) * up


def swiglu_forward(
    x: Array, w_gate: Array, w_up: Array, w_down: Array
) -> tuple[Array, SwiGLUCache]:
    """silu(g) = g * sigmoid(g) decides, feature by feature, how much of `up` passes."""
    gate = x @ w_gate.T
    up = x @ w_up.T
    # sigmoid(g) = (1 + tanh(g / 2)) / 2: the same function, but it never overflows.
    sig = np.tanh(gate * 0.5)
    sig *= 0.5
    sig += 0.5
    silu = gate * sig
    hidden = silu * up
    return hidden @ w_down.T, SwiGLUCache(x, w_gate, w_up, w_down, sig, silu, up, hidden)


def swiglu_backward(
    dy: Array, cache: SwiGLUCache, want: tuple[bool, bool, bool] = (True,) * 3
) -> tuple[Array, tuple[Array | None, Array | None, Array | None]]:
    """Returns (dx, (dw_gate, dw_up, dw_down)); `want` as in `attention_backward`.

    hidden = silu(gate) * up, and silu'(g) = sig + g * sig * (1 - sig)
    = sig + silu * (1 - sig), where sig = sigmoid(g).
    """
    c = cache
    dw_down = dy.T @ c.hidden if want[2] else None
    dhidden = dy @ c.w_down
    dup = dhidden * c.silu
    dsilu_dgate = 1.0 - c.sig
    dsilu_dgate *= c.silu
    dsilu_dgate += c.sig
    dgate = dhidden * c.up
    dgate *= dsilu_dgate
    dx = dgate @ c.w_gate
    dx += dup @ c.w_up
    dw_gate = dgate.T @ c.x if want[0] else None
    dw_up = dup.T @ c.x if want[1] else None
    return dx, (dw_gate, dw_up, dw_down)


# --- Cross-entropy: the mean of -log p(correct next token) ---


@dataclass
class CrossEntropyCache:
    probs: Array  # softmax of the logits, (tokens, vocab)
    targets: IntArray  # (tokens,)
    scale: Array | float  # d loss / d (-log p) of each token: 1 / n, or weights / normaliser


def cross_entropy_forward(
    logits: Array,
    targets: IntArray,
    weights: Array | None = None,
    normaliser: float | None = None,
) -> tuple[float, CrossEntropyCache]:
    """`logits` (tokens, vocab), `targets` (tokens,) -> mean negative log-likelihood.

    log p = z - log(sum(exp(z))) with z = logits - max: the "log-sum-exp" trick.

    `weights` (tokens,) say how much each token counts (supervised fine-tuning scores only
    the assistant's tokens: weight 1 there, 0 elsewhere); the loss is then
    sum(weights * -log p) / `normaliser`. The normaliser defaults to the sum of the
    weights, or to the number of tokens. A micro-batch passes the whole batch's normaliser,
    so the micro-batches' losses and gradients add up to the whole batch's.
    """
    z = logits - logits.max(axis=-1, keepdims=True)
    exp_z = np.exp(z)
    total = exp_z.sum(axis=-1, keepdims=True)
    rows = np.arange(len(targets))
    log_p = z[rows, targets] - np.log(total[:, 0])
    exp_z /= total
    if weights is None and normaliser is None:
        return float(-np.mean(log_p)), CrossEntropyCache(exp_z, targets, 1.0 / len(targets))
    if normaliser is None:
        normaliser = float(weights.sum()) if weights is not None else float(len(targets))
    if normaliser <= 0:  # nothing scored (a masked-out micro-batch): no loss, no gradient
        return 0.0, CrossEntropyCache(exp_z, targets, 0.0)
    if weights is None:
        return float(-log_p.sum() / normaliser), CrossEntropyCache(exp_z, targets, 1.0 / normaliser)
    scale = (weights / normaliser).astype(logits.dtype)
    return float(-np.dot(log_p, scale)), CrossEntropyCache(exp_z, targets, scale)


def cross_entropy_backward(cache: CrossEntropyCache) -> Array:
    """d loss / d logits = (softmax - one_hot(target)) * each token's scale (1 / tokens for
    the plain mean)."""
    n = len(cache.targets)
    dlogits = cache.probs.copy()
    dlogits[np.arange(n), cache.targets] -= 1.0
    if isinstance(cache.scale, float):
        dlogits *= cache.scale
    else:
        dlogits *= cache.scale[:, None]
    return dlogits

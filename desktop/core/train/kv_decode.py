"""Generating with the numpy model, with a KV cache: many continuations at once (the
rollouts of reinforcement learning, where sampling is most of the time a step takes) or
one greedy reply (the samples shown while fine-tuning).

`sample` in `sampling.py` runs the whole window through the model for every new token:
fine for one sample every fifty training steps, far too slow for 64 answers a step. Here
every row's keys and values are kept (the KV cache), so a new token costs one position's
work, and all rows advance together: one matrix product serves the whole batch.

Rows may have prompts of different lengths. They are padded on the left, so every row's
next token is in the same column; each row's positions count from its own first real
token (rope sees the same positions as in `model.forward`), and padding is masked out of
attention. Rows with the same prompt share
one prefill. Rows that have finished (a stop token, or `max_new` tokens) are dropped from
the batch once half of them are done, so short answers do not pay for long ones.

The numbers are `model.forward`'s: the tests check every decoded position's logits
against a full forward pass of the same tokens.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.train.layers import (
    Array,
    ComplexArray,
    IntArray,
    rmsnorm_forward,
    rope_forward,
    rope_rotations,
)
from desktop.core.train.model import Params, output_weight

COMPACT_BELOW = 0.5  # drop finished rows once fewer than this share of the batch is running


@dataclass(frozen=True, eq=False)
class Samples:
    """Each row's continuation: its token ids (a stop token included, if one came), the
    log-probability of each under the distribution it was drawn from, and whether it
    ended with a stop token (else it ran out of `max_new`)."""

    tokens: list[list[int]]
    logprobs: list[Array]
    stopped: list[bool]

    @property
    def generated(self) -> int:
        return sum(len(t) for t in self.tokens)


class KVCache:
    """Keys (roped) and values of every position seen so far, per layer:
    (rows, kv_heads, positions, head_dim), filled column by column."""

    def __init__(self, shape: LlamaShape, rows: int, columns: int, dtype: np.dtype) -> None:
        size = (rows, shape.n_kv_heads, columns, shape.head_dim)
        self.keys = [np.zeros(size, dtype=dtype) for _ in range(shape.n_layers)]
        self.values = [np.zeros(size, dtype=dtype) for _ in range(shape.n_layers)]

    def keep(self, rows: IntArray) -> None:
        self.keys = [k[rows] for k in self.keys]
        self.values = [v[rows] for v in self.values]


def sample_batch(
    params: Params,
    shape: LlamaShape,
    prompts: Sequence[Sequence[int]],
    *,
    max_new: int,
    rng: np.random.Generator,
    temperature: float = 1.0,
    stop_ids: Collection[int] = (),
) -> Samples:
    """Continue every prompt by up to `max_new` tokens, drawn at `temperature` (0: the
    most likely token). `rng` makes it reproducible: the same generator state gives the
    same samples."""
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("every row needs a prompt of at least one token")
    rows, longest = len(prompts), max(len(p) for p in prompts)
    max_new = max(0, min(max_new, shape.context_length - longest))
    columns = longest + max_new
    dtype = params["token_embd.weight"].dtype
    pad = np.array([longest - len(p) for p in prompts])
    tokens = np.zeros((rows, longest), dtype=np.int64)
    for r, prompt in enumerate(prompts):
        tokens[r, pad[r] :] = prompt
    # Each row's position at every column (negative on its padding, which is masked).
    positions = np.arange(columns)[None, :] - pad[:, None]
    table = rope_rotations(columns, shape.head_dim, shape.rope_theta, dtype)
    rotations = table[np.clip(positions, 0, None)]  # (rows, columns, head_dim // 2)
    visible = np.where(positions >= 0, 0.0, -np.inf).astype(dtype)  # (rows, columns)

    out: list[list[int]] = [[] for _ in range(rows)]
    logprobs: list[list[float]] = [[] for _ in range(rows)]
    stopped = [False] * rows
    if max_new == 0:
        return Samples(out, [np.zeros(0) for _ in range(rows)], stopped)
    # Rows with the same prompt (a group of K answers to one question) share its prefill.
    _, first, copies = np.unique(tokens, axis=0, return_index=True, return_inverse=True)
    cache = KVCache(shape, len(first), columns, dtype)
    logits = _prefill(params, shape, tokens[first], rotations[first, :longest],
                      visible[first, :longest], cache)[copies.reshape(-1)]  # fmt: skip
    cache.keep(copies.reshape(-1))
    alive = np.arange(rows)  # the prompt each batch row continues
    done = np.zeros(rows, dtype=bool)  # finished rows ride along until the next compaction
    stops = np.array(sorted(stop_ids), dtype=np.int64)
    for step in range(max_new):
        chosen, chosen_logp = _draw(logits, temperature, rng)
        for i in np.flatnonzero(~done):
            out[alive[i]].append(int(chosen[i]))
            logprobs[alive[i]].append(float(chosen_logp[i]))
        ended = ~done & np.isin(chosen, stops)
        for i in np.flatnonzero(ended):
            stopped[alive[i]] = True
        done |= ended
        if step == max_new - 1 or done.all():
            break
        if (~done).mean() < COMPACT_BELOW:  # copies the cache: worth it only now and then
            keep = np.flatnonzero(~done)
            cache.keep(keep)
            alive, chosen, done = alive[keep], chosen[keep], done[keep]
            rotations, visible = rotations[keep], visible[keep]
        logits = _decode(params, shape, chosen, longest + step, rotations, visible, cache)
    return Samples(out, [np.array(lp, dtype=np.float64) for lp in logprobs], stopped)


def _draw(logits: Array, temperature: float, rng: np.random.Generator) -> tuple[IntArray, Array]:
    """One token per row, and its log-probability under the distribution it came from."""
    z = logits.astype(np.float64)
    if temperature <= 0:
        chosen = z.argmax(axis=-1)
        return chosen, np.zeros(len(chosen))
    z = z / temperature
    z -= z.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    cdf = np.cumsum(np.exp(log_p), axis=-1)
    u = rng.random(len(z)) * cdf[:, -1]
    chosen = np.minimum((cdf < u[:, None]).sum(axis=-1), z.shape[-1] - 1)
    return chosen, log_p[np.arange(len(z)), chosen]


def _prefill(
    params: Params,
    shape: LlamaShape,
    tokens: IntArray,
    rotations: ComplexArray,
    visible: Array,
    cache: KVCache,
) -> Array:
    """Run the padded prompts (rows, time) through the model, filling the cache's first
    columns; returns the last column's logits (rows, vocab)."""
    rows, time = tokens.shape
    causal = np.triu(np.full((time, time), -np.inf, dtype=visible.dtype), k=1)
    mask = causal[None] + visible[:, None, :]  # (rows, queries, keys)
    # A padding position sees itself only: a query that sees nothing would be NaN, and
    # NaN keys poison every row's scores even where the mask hides them.
    mask[:, np.arange(time), np.arange(time)] = 0.0
    mask = mask[:, None, None]  # broadcasts over the key/value heads and their groups
    x = params["token_embd.weight"][tokens.reshape(-1)]
    for i in range(shape.n_layers):
        p = f"blk.{i}."
        h, _ = rmsnorm_forward(x, params[p + "attn_norm.weight"], shape.norm_eps)
        q, k, v = _qkv(params, shape, p, h, rows, time, rotations)
        cache.keys[i][:, :, :time] = k
        cache.values[i][:, :, :time] = v
        x = x + _attend(params, shape, p, q, k, v, mask)
        x = x + _ffn(params, shape, p, x)
    return _logits(params, shape, x.reshape(rows, time, -1)[:, -1])


def _decode(
    params: Params,
    shape: LlamaShape,
    chosen: IntArray,
    column: int,
    rotations: ComplexArray,
    visible: Array,
    cache: KVCache,
) -> Array:
    """One new token per row at `column`: its keys and values go into the cache, its
    query attends to every earlier column; returns the next logits (rows, vocab)."""
    rows = len(chosen)
    mask = visible[:, None, None, None, : column + 1]  # (r, 1, 1, 1, columns)
    x = params["token_embd.weight"][chosen]
    here = rotations[:, column : column + 1]
    for i in range(shape.n_layers):
        p = f"blk.{i}."
        h, _ = rmsnorm_forward(x, params[p + "attn_norm.weight"], shape.norm_eps)
        q, k, v = _qkv(params, shape, p, h, rows, 1, here)
        cache.keys[i][:, :, column : column + 1] = k
        cache.values[i][:, :, column : column + 1] = v
        keys, values = cache.keys[i][:, :, : column + 1], cache.values[i][:, :, : column + 1]
        x = x + _attend(params, shape, p, q, keys, values, mask)
        x = x + _ffn(params, shape, p, x)
    return _logits(params, shape, x)


def _qkv(
    params: Params,
    shape: LlamaShape,
    p: str,
    h: Array,
    rows: int,
    time: int,
    rotations: ComplexArray,
) -> tuple[Array, Array, Array]:
    """Roped, scaled queries (rows, kv_heads, group, time, head_dim), roped keys and values
    (rows, kv_heads, time, head_dim)."""
    hd, kvh = shape.head_dim, shape.n_kv_heads
    group = shape.n_heads // kvh
    per_row = rotations[:, None]  # (rows, 1, time, head_dim // 2): broadcasts over heads
    q_in = (h @ params[p + "attn_q.weight"].T).reshape(rows, time, shape.n_heads, hd)
    q = rope_forward(q_in.swapaxes(1, 2), per_row) * hd**-0.5
    k_in = (h @ params[p + "attn_k.weight"].T).reshape(rows, time, kvh, hd)
    k = rope_forward(k_in.swapaxes(1, 2), per_row)
    v = (h @ params[p + "attn_v.weight"].T).reshape(rows, time, kvh, hd).swapaxes(1, 2)
    return q.reshape(rows, kvh, group, time, hd), k, v


def _attend(
    params: Params, shape: LlamaShape, p: str, q: Array, k: Array, v: Array, mask: Array
) -> Array:
    """softmax(q kᵀ + mask) v for each query head (its group's key/value head), then
    the output projection; (rows * time, dim)."""
    rows, _, _, time, hd = q.shape
    scores = q @ k[:, :, None].swapaxes(-1, -2)  # (rows, kvh, group, time, keys)
    scores += mask
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    mixed = scores @ v[:, :, None]  # (rows, kvh, group, time, hd)
    mixed = mixed.reshape(rows, shape.n_heads, time, hd).swapaxes(1, 2).reshape(rows * time, -1)
    out: Array = mixed @ params[p + "attn_output.weight"].T
    return out


def _ffn(params: Params, shape: LlamaShape, p: str, x: Array) -> Array:
    h, _ = rmsnorm_forward(x, params[p + "ffn_norm.weight"], shape.norm_eps)
    gate = h @ params[p + "ffn_gate.weight"].T
    sig = np.tanh(gate * 0.5) * 0.5 + 0.5  # sigmoid, as layers.swiglu_forward computes it
    out: Array = (gate * sig * (h @ params[p + "ffn_up.weight"].T)) @ params[
        p + "ffn_down.weight"
    ].T
    return out


def _logits(params: Params, shape: LlamaShape, x: Array) -> Array:
    final, _ = rmsnorm_forward(x, params["output_norm.weight"], shape.norm_eps)
    out: Array = final @ output_weight(params, shape).T
    return out


def greedy(
    params: Params,
    shape: LlamaShape,
    prompt: Sequence[int],
    end_ids: frozenset[int],
    max_tokens: int,
) -> list[int]:
    """The most likely continuation of `prompt`, until an end token (left out) or
    `max_tokens`: a batch of one row at temperature 0."""
    if not prompt:
        return []
    drawn = sample_batch(
        params,
        shape,
        [prompt],
        max_new=max_tokens,
        rng=np.random.default_rng(0),
        temperature=0.0,
        stop_ids=end_ids,
    )
    reply = drawn.tokens[0]
    return reply[:-1] if drawn.stopped[0] else reply

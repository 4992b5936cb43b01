"""Generating with the numpy model one token at a time, with a KV cache.

`model.forward` recomputes every position each time, fine for a 172K-parameter model's
samples but ~0.3 s a token for a SmolLM2-135M-sized one. Here each new token is computed
once: its keys and values are appended to each layer's cache, and its query looks at all
of them. The maths is `forward`'s (the tests check the logits agree), so a sample shows
what the model being trained would say. Samples while fine-tuning use it; so can RL's
rollouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.train.layers import Array, rmsnorm_forward, rope_forward, rope_rotations, softmax_
from desktop.core.train.model import Params, output_weight


@dataclass
class KVCache:
    """Each layer's roped keys and values so far: (kv_heads, positions, head_dim)."""

    keys: list[Array] = field(default_factory=list)
    values: list[Array] = field(default_factory=list)

    @property
    def length(self) -> int:
        return int(self.keys[0].shape[1]) if self.keys else 0


def extend(
    params: Params,
    shape: LlamaShape,
    tokens: Sequence[int],
    cache: KVCache,
    *,
    last_only: bool = True,
) -> Array:
    """Feed `tokens` after what `cache` holds (updating it); the logits of the last new
    position (vocab,), or of every new one (n, vocab) without `last_only`."""
    n, start = len(tokens), cache.length
    if start + n > shape.context_length:
        raise ValueError(f"{start + n} tokens do not fit the context of {shape.context_length}")
    heads, kv_heads, head_dim = shape.n_heads, shape.n_kv_heads, shape.head_dim
    group = heads // kv_heads
    embd = params["token_embd.weight"]
    rotations = rope_rotations(start + n, head_dim, shape.rope_theta, embd.dtype)[start:]
    # new position i may see keys 0 .. start + i
    mask = np.triu(np.full((n, start + n), -np.inf, dtype=embd.dtype), k=start + 1)
    x = embd[np.asarray(tokens)]
    for i in range(shape.n_layers):
        p = f"blk.{i}."
        h, _ = rmsnorm_forward(x, params[p + "attn_norm.weight"], shape.norm_eps)
        q = rope_forward((h @ params[p + "attn_q.weight"].T).reshape(n, heads, head_dim)
                         .swapaxes(0, 1), rotations)  # fmt: skip
        k = rope_forward((h @ params[p + "attn_k.weight"].T).reshape(n, kv_heads, head_dim)
                         .swapaxes(0, 1), rotations)  # fmt: skip
        v = (h @ params[p + "attn_v.weight"].T).reshape(n, kv_heads, head_dim).swapaxes(0, 1)
        if len(cache.keys) <= i:
            cache.keys.append(k)
            cache.values.append(np.ascontiguousarray(v))
        else:
            cache.keys[i] = np.concatenate([cache.keys[i], k], axis=1)
            cache.values[i] = np.concatenate([cache.values[i], v], axis=1)
        keys, values = cache.keys[i], cache.values[i]
        q = q.reshape(kv_heads, group * n, head_dim) * head_dim**-0.5
        scores = (q @ keys.swapaxes(-1, -2)).reshape(kv_heads, group, n, start + n) + mask
        probs = softmax_(scores).reshape(kv_heads, group * n, start + n)
        mixed = (probs @ values).reshape(heads, n, head_dim).swapaxes(0, 1).reshape(n, -1)
        x = x + mixed @ params[p + "attn_output.weight"].T
        h, _ = rmsnorm_forward(x, params[p + "ffn_norm.weight"], shape.norm_eps)
        gate = h @ params[p + "ffn_gate.weight"].T
        silu = gate * (0.5 + 0.5 * np.tanh(gate * 0.5))  # sigmoid without overflow
        x = x + (silu * (h @ params[p + "ffn_up.weight"].T)) @ params[p + "ffn_down.weight"].T
    if last_only:
        x = x[-1:]
    final, _ = rmsnorm_forward(x, params["output_norm.weight"], shape.norm_eps)
    logits = final @ output_weight(params, shape).T
    return logits[0] if last_only else logits


def greedy(
    params: Params,
    shape: LlamaShape,
    prompt: Sequence[int],
    end_ids: frozenset[int],
    max_tokens: int,
) -> list[int]:
    """The most likely continuation of `prompt`, until an end token or `max_tokens`."""
    cache = KVCache()
    room = shape.context_length - len(prompt)
    if room <= 0 or not prompt:
        return []
    logits = extend(params, shape, list(prompt), cache)
    reply: list[int] = []
    for _ in range(min(max_tokens, room)):
        next_id = int(np.argmax(logits))
        if next_id in end_ids:
            break
        reply.append(next_id)
        if len(reply) == min(max_tokens, room):
            break
        logits = extend(params, shape, [next_id], cache)
    return reply

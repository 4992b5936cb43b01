"""A tiny llama: exactly the network llama.cpp runs for a "llama" GGUF, in plain numpy.

    x = token_embd[tokens]
    for each layer:
        x = x + attention(rmsnorm(x, attn_norm))      # rope, causal, grouped-query
        x = x + swiglu(rmsnorm(x, ffn_norm))          # w_down(silu(w_gate x) * w_up x)
    logits = rmsnorm(x, output_norm) @ output.T       # or token_embd.T when tied

The parameters are a plain dict named and shaped as in the GGUF file
(`desktop.core.models.gguf_writer.expected_tensor_shapes`), so `write_llama_gguf` exports a
trained model as it is, and llama.cpp computes the same logits as `forward` (the tests
check this). The backward pass is written out by hand from the layers in
`desktop.core.train.layers`, with no autograd library.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Container
from dataclasses import dataclass

import numpy as np

from desktop.core.models.gguf_writer import LlamaShape, expected_tensor_shapes
from desktop.core.train.layers import (
    Array,
    AttentionCache,
    CrossEntropyCache,
    IntArray,
    RMSNormCache,
    SwiGLUCache,
    attention_backward,
    attention_forward,
    cross_entropy_backward,
    cross_entropy_forward,
    rmsnorm_backward,
    rmsnorm_forward,
    rope_rotations,
    swiglu_backward,
    swiglu_forward,
)

Params = dict[str, Array]


def parameter_count(shape: LlamaShape) -> int:
    """How many numbers the model learns (a tied output head counts once)."""
    return sum(int(np.prod(dims)) for dims in expected_tensor_shapes(shape).values())


def init_params(shape: LlamaShape, seed: int) -> Params:
    """A fresh, untrained model: the same `seed` always gives the same numbers.

    Matrices start as small Gaussian noise, N(0, 0.02) as in GPT-2, so the first
    predictions are close to uniform; the two projections that write into the residual
    stream (attn_output, ffn_down) are further scaled by 1/sqrt(2 * n_layers), so the
    stream's size does not grow with depth. Norm weights start at 1 (no rescaling).
    """
    rng = np.random.default_rng(seed)
    residual_scale = (2 * shape.n_layers) ** -0.5
    params: Params = {}
    for name, dims in expected_tensor_shapes(shape).items():
        if len(dims) == 1:
            params[name] = np.ones(dims, dtype=np.float32)
            continue
        std = 0.02
        if name.endswith(("attn_output.weight", "ffn_down.weight")):
            std *= residual_scale
        params[name] = rng.standard_normal(dims, dtype=np.float32) * np.float32(std)
    return params


@dataclass
class LayerCache:
    attn_norm: RMSNormCache
    attn: AttentionCache
    ffn_norm: RMSNormCache
    ffn: SwiGLUCache


@dataclass
class ForwardCache:
    """Everything `backward` needs from `forward`."""

    tokens: IntArray  # (batch, time)
    layers: list[LayerCache]
    output_norm: RMSNormCache
    final: Array  # rmsnorm output that feeds the output head, (tokens, dim)


def output_weight(params: Params, shape: LlamaShape) -> Array:
    """The output head's matrix: its own, or the token embeddings when they are tied."""
    return params["token_embd.weight" if shape.tie_embeddings else "output.weight"]


def forward(params: Params, shape: LlamaShape, tokens: IntArray) -> tuple[Array, ForwardCache]:
    """tokens (batch, time) of ids -> logits (batch, time, vocab), plus the backward's cache.

    logits[b, t] scores every possible next token after tokens[b, : t + 1]; the causal mask
    in attention guarantees that position t never sees a later token.
    """
    final, cache = forward_hidden(params, shape, tokens)
    logits = final @ output_weight(params, shape).T
    return logits.reshape(*tokens.shape, shape.vocab_size), cache


def forward_hidden(
    params: Params, shape: LlamaShape, tokens: IntArray
) -> tuple[Array, ForwardCache]:
    """The network up to the output head: each position's final normalised state,
    (batch * time, dim). A reward model reads a score from it instead of logits."""
    batch, time = tokens.shape
    if time > shape.context_length:
        raise ValueError(f"{time} tokens do not fit the context of {shape.context_length}")
    embd = params["token_embd.weight"]
    rotations = rope_rotations(time, shape.head_dim, shape.rope_theta, embd.dtype)

    x = embd[tokens.reshape(-1)]  # (batch * time, dim): each token's row of the table
    layers: list[LayerCache] = []
    for i in range(shape.n_layers):
        p = f"blk.{i}."
        h, norm1 = rmsnorm_forward(x, params[p + "attn_norm.weight"], shape.norm_eps)
        h, attn = attention_forward(
            h,
            params[p + "attn_q.weight"],
            params[p + "attn_k.weight"],
            params[p + "attn_v.weight"],
            params[p + "attn_output.weight"],
            rotations,
            batch,
            shape.n_heads,
            shape.n_kv_heads,
        )
        x = x + h  # the residual connection: each block adds its output to the stream
        h, norm2 = rmsnorm_forward(x, params[p + "ffn_norm.weight"], shape.norm_eps)
        h, ffn = swiglu_forward(
            h,
            params[p + "ffn_gate.weight"],
            params[p + "ffn_up.weight"],
            params[p + "ffn_down.weight"],
        )
        x = x + h
        layers.append(LayerCache(norm1, attn, norm2, ffn))

    final, out_norm = rmsnorm_forward(x, params["output_norm.weight"], shape.norm_eps)
    return final, ForwardCache(tokens, layers, out_norm, final)


def backward(
    params: Params,
    shape: LlamaShape,
    cache: ForwardCache,
    dlogits: Array,
    trainable: Container[str] | None = None,
) -> Params:
    """Gradients of the loss for every parameter, given d loss / d logits (batch, time, vocab).

    Runs the forward pass in reverse. At each residual `x = x + f(x)` the gradient flows
    both straight through and through f, and the two are added.

    `trainable` names the parameters whose gradients are wanted (None: all of them); the
    others are frozen and left out of the result, and their weight gradients — a third of
    the backward's work — are never computed. Fine-tuning with LoRA freezes everything
    but the matrices it adapts.
    """
    wanted = (lambda name: True) if trainable is None else trainable.__contains__
    dlogits = dlogits.reshape(-1, shape.vocab_size)
    head = "token_embd.weight" if shape.tie_embeddings else "output.weight"
    # logits = final @ w_out.T
    d_out = dlogits.T @ cache.final if wanted(head) else None
    d_final = dlogits @ output_weight(params, shape)
    return backward_hidden(params, shape, cache, d_final, d_out, trainable)


def backward_hidden(
    params: Params,
    shape: LlamaShape,
    cache: ForwardCache,
    d_final: Array,
    d_out: Array | None = None,
    trainable: Container[str] | None = None,
) -> Params:
    """Gradients of the network's parameters, given d loss / d (final state)
    (batch * time, dim) and the output head's own gradient `d_out` (None: the head was
    not used, as in a reward model, or is frozen: it is left out). Parameters that are
    not the network's (a reward model's head) are left to the caller."""
    wanted = (lambda name: True) if trainable is None else trainable.__contains__
    grads: Params = {}
    dx, d_norm = rmsnorm_backward(d_final, cache.output_norm)
    grads["output_norm.weight"] = d_norm

    for i in reversed(range(shape.n_layers)):
        p, layer = f"blk.{i}.", cache.layers[i]
        # x = x + swiglu(rmsnorm(x))
        ffn = tuple(wanted(p + n) for n in ("ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"))
        dh, (d_gate, d_up, d_down) = swiglu_backward(dx, layer.ffn, ffn)  # type: ignore[arg-type]
        dh, d_norm = rmsnorm_backward(dh, layer.ffn_norm)
        dx = dx + dh
        grads |= _named(p, ffn_norm=d_norm, ffn_gate=d_gate, ffn_up=d_up, ffn_down=d_down)
        # x = x + attention(rmsnorm(x))
        attn = tuple(wanted(p + f"attn_{n}.weight") for n in ("q", "k", "v", "output"))
        dh, (d_q, d_k, d_v, d_o) = attention_backward(dx, layer.attn, attn)  # type: ignore[arg-type]
        dh, d_norm = rmsnorm_backward(dh, layer.attn_norm)
        dx = dx + dh
        grads |= _named(p, attn_norm=d_norm, attn_q=d_q, attn_k=d_k, attn_v=d_v, attn_output=d_o)

    if wanted("token_embd.weight"):
        # The embedding is a row lookup, so its gradient adds each position's dx into the
        # row of that position's token (a token used twice collects both).
        d_embd = np.zeros_like(params["token_embd.weight"])
        np.add.at(d_embd, cache.tokens.reshape(-1), dx)
        if shape.tie_embeddings and d_out is not None:
            d_embd += d_out  # the same matrix, used twice: the gradients add up
        grads["token_embd.weight"] = d_embd
    if not shape.tie_embeddings and d_out is not None:
        grads["output.weight"] = d_out
    return {name: grads[name] for name in params if name in grads and wanted(name)}


def _named(prefix: str, **grads: Array | None) -> Params:
    """A layer's gradients under their parameter names, the skipped (None) ones left out."""
    return {f"{prefix}{name}.weight": g for name, g in grads.items() if g is not None}


def loss_and_grads(
    params: Params,
    shape: LlamaShape,
    tokens: IntArray,
    targets: IntArray,
    weights: Array | None = None,
    normaliser: float | None = None,
    trainable: Container[str] | None = None,
) -> tuple[float, Params]:
    """Mean cross-entropy of predicting `targets` (batch, time) and its gradients.

    For language modelling `targets` is `tokens` shifted by one: each position learns to
    predict the token that follows it. `weights` (batch, time) and `normaliser` make it a
    weighted sum instead (see `cross_entropy_forward`): a loss mask, or a micro-batch's
    share of a bigger batch. `trainable`: only these parameters' gradients (see `backward`).
    """
    logits, cache = forward(params, shape, tokens)
    loss, ce = _cross_entropy(logits, shape, targets, weights, normaliser)
    del logits  # the softmax in `ce` is all the backward needs: one (tokens, vocab) array less
    return loss, backward(params, shape, cache, cross_entropy_backward(ce), trainable)


def loss_only(
    params: Params,
    shape: LlamaShape,
    tokens: IntArray,
    targets: IntArray,
    weights: Array | None = None,
    normaliser: float | None = None,
) -> float:
    """The same loss as `loss_and_grads`, without the backward pass (for evaluation)."""
    logits, _ = forward(params, shape, tokens)
    return _cross_entropy(logits, shape, targets, weights, normaliser)[0]


def _cross_entropy(
    logits: Array,
    shape: LlamaShape,
    targets: IntArray,
    weights: Array | None,
    normaliser: float | None,
) -> tuple[float, CrossEntropyCache]:
    flat_weights = weights.reshape(-1) if weights is not None else None
    return cross_entropy_forward(
        logits.reshape(-1, shape.vocab_size), targets.reshape(-1), flat_weights, normaliser
    )


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse: on Linux, steps get 1.3-1.5x faster.

    Every training step allocates the same ~100 MB of activations and frees them again.
    By default glibc returns big freed blocks to the operating system, so the next step
    takes them back one 4 KiB page at a time, each a page fault (a quarter to a third of
    the step time on a 2-core Linux VM). This raises the thresholds so freed memory stays
    in the process (up to the peak a step needs) and puts all threads on the main heap,
    whose memory can be kept (a worker thread's own heaps are unmapped regardless).

    Process-wide, so it is the caller's choice: call it once, early (before starting the
    training thread). Returns False, changing nothing, where the C library is not glibc.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8  # from glibc's malloc.h
    settings = (
        (m_mmap_threshold, 32 << 20),  # blocks up to 32 MiB come from the heap (the maximum)
        (m_trim_threshold, 1 << 30),  # do not give the top of the heap back
        (m_arena_max, 1),  # one heap for all threads
    )
    return all([mallopt(option, value) == 1 for option, value in settings])

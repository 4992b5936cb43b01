"""The KV-cache sampler computes what the model computes: every decoded position's
log-probabilities equal a full forward pass over the same tokens, for rows of different
prompt lengths (left padding), shared prompts and rows that stop early; and it is
reproducible from the generator's state."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.train.kv_decode import sample_batch
from desktop.core.train.model import forward, init_params

SHAPE = LlamaShape(vocab_size=40, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64,
                   context_length=48)  # fmt: skip


def sharp_params(seed: int = 3) -> dict[str, np.ndarray]:
    """Weights large enough that the next-token distributions are far from uniform."""
    return {k: v * 6 if v.ndim == 2 else v for k, v in init_params(SHAPE, seed).items()}


def full_logprobs(params: dict[str, np.ndarray], tokens: list[int]) -> np.ndarray:
    logits = forward(params, SHAPE, np.array([tokens]))[0][0].astype(np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("temperature", [1.0, 0.0])
def test_every_position_matches_a_full_forward_pass(temperature: float) -> None:
    params = sharp_params()
    prompts = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10], [11], [1, 2, 3], [1, 2, 3]]
    drawn = sample_batch(params, SHAPE, prompts, max_new=12, rng=np.random.default_rng(0),
                         temperature=temperature, stop_ids={0, 5})  # fmt: skip
    assert drawn.generated > len(prompts)
    for prompt, tokens, logprobs, stopped in zip(
        prompts, drawn.tokens, drawn.logprobs, drawn.stopped, strict=True
    ):
        assert 1 <= len(tokens) <= 12
        assert stopped == (tokens[-1] in (0, 5))
        assert all(t not in (0, 5) for t in tokens[:-1])  # nothing after a stop token
        reference = full_logprobs(params, prompt + tokens)
        for i, token in enumerate(tokens):
            position = reference[len(prompt) - 1 + i]
            if temperature == 0:
                assert token == int(position.argmax())
            else:
                assert logprobs[i] == pytest.approx(position[token], abs=2e-5)


def test_the_same_generator_state_gives_the_same_samples() -> None:
    params = sharp_params()
    prompts = [[1, 2], [3, 4, 5]] * 3
    a = sample_batch(params, SHAPE, prompts, max_new=10, rng=np.random.default_rng(7))
    b = sample_batch(params, SHAPE, prompts, max_new=10, rng=np.random.default_rng(7))
    assert a.tokens == b.tokens


def test_answers_stop_at_the_context() -> None:
    params = sharp_params()
    drawn = sample_batch(params, SHAPE, [[1] * 40], max_new=100, rng=np.random.default_rng(0))
    assert len(drawn.tokens[0]) == SHAPE.context_length - 40


def test_empty_prompts_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        sample_batch(sharp_params(), SHAPE, [[]], max_new=3, rng=np.random.default_rng(0))

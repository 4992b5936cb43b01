"""A reward model: the same tiny transformer, with a scalar head instead of next-token
logits, trained to score the answer a person preferred above the one they did not.

Its score of an answer is the final state at the answer's last token (the end of the
turn: everything has been read) times one vector, `reward.weight`. Trained on preference
pairs with the Bradley–Terry loss

    −log σ(r_chosen − r_rejected)

it learns whatever tells the chosen answers from the rejected ones — and nothing about
answers unlike any it was shown, which is where RL against it finds its loopholes.

It starts from the policy's own weights (as InstructGPT's did), with the head at zero:
every answer scores 0 and the loss starts at log 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.reinforce.chat_format import answer_ids, pad_id, prompt_ids
from desktop.core.train.batches import Batch
from desktop.core.train.model import Params, backward_hidden, forward_hidden
from desktop.core.train.trained_tokenizer import TrainedTokenizer

HEAD = "reward.weight"
SCORE_ROWS = 64  # answers scored per forward pass


class PairLike(Protocol):
    """A preference pair as the preference store keeps it (`PreferencePair`, from the
    Chat tab's compare window, the Reinforce tab's votes or a JSONL file): only these
    fields are read."""

    @property
    def prompt(self) -> str: ...
    @property
    def chosen(self) -> str: ...
    @property
    def rejected(self) -> str: ...
    @property
    def tie(self) -> bool: ...


def reward_params(policy: Params, dim: int) -> Params:
    """The policy's weights (copied) and a zero scalar head."""
    params = {name: p.copy() for name, p in policy.items()}
    params[HEAD] = np.zeros(dim, dtype=np.float32)
    return params


def conversation(tokenizer: TrainedTokenizer, prompt: str, answer: str) -> list[int]:
    return prompt_ids(tokenizer, prompt) + answer_ids(tokenizer, answer)


def pair_batch(pairs: Sequence[PairLike], tokenizer: TrainedTokenizer, context: int) -> Batch:
    """Rows 2i and 2i+1 are pair i's chosen and rejected conversations, right-padded; the
    weight 1 marks the position whose state is scored (the last token that fits)."""
    rows = [conversation(tokenizer, p.prompt, answer)[:context]
            for p in pairs for answer in (p.chosen, p.rejected)]  # fmt: skip
    width = max(len(r) for r in rows)
    inputs = np.full((len(rows), width), pad_id(tokenizer), dtype=np.int64)
    weights = np.zeros((len(rows), width), dtype=np.float32)
    for i, ids in enumerate(rows):
        inputs[i, : len(ids)] = ids
        weights[i, len(ids) - 1] = 1.0
    return Batch(inputs, inputs, weights, denominator=float(len(pairs)), row_group=2)


def _scores(params: Params, shape: LlamaShape, batch: Batch) -> tuple[Any, Any, Any]:
    """Each row's reward, the scored states (rows, dim), and the forward cache."""
    final, cache = forward_hidden(params, shape, batch.inputs)
    assert batch.weights is not None
    rows, time = batch.inputs.shape
    picked = np.einsum("rt,rtd->rd", batch.weights, final.reshape(rows, time, -1))
    return picked @ params[HEAD], picked, cache


class PreferenceLoss:
    """The Bradley–Terry `Objective` over a `pair_batch`."""

    def loss_and_grads(
        self, params: Params, shape: LlamaShape, batch: Batch, normaliser: float | None
    ) -> tuple[float, Params]:
        rewards, picked, cache = _scores(params, shape, batch)
        n = normaliser if normaliser is not None else batch.normaliser
        margin = (rewards[0::2] - rewards[1::2]).astype(np.float64)
        loss = float(np.logaddexp(0.0, -margin).sum() / n)
        d_margin = -0.5 * (1.0 - np.tanh(margin / 2.0)) / n  # −σ(−margin) / n
        d_rewards = np.zeros(len(rewards), dtype=picked.dtype)
        d_rewards[0::2], d_rewards[1::2] = d_margin, -d_margin
        assert batch.weights is not None
        rows, time = batch.inputs.shape
        d_picked = d_rewards[:, None] * params[HEAD][None, :]
        d_final = (batch.weights[:, :, None] * d_picked[:, None, :]).reshape(rows * time, -1)
        grads = backward_hidden(params, shape, cache, d_final.astype(picked.dtype))
        grads[HEAD] = picked.T @ d_rewards
        # The unused language-model head (untied) gets no gradient: a zero, for AdamW.
        return loss, {name: grads.get(name, np.zeros_like(p)) for name, p in params.items()}

    def loss(
        self, params: Params, shape: LlamaShape, batch: Batch, normaliser: float | None
    ) -> float:
        rewards, _, _ = _scores(params, shape, batch)
        n = normaliser if normaliser is not None else batch.normaliser
        return float(np.logaddexp(0.0, -(rewards[0::2] - rewards[1::2])).sum() / n)


PREFERENCE_LOSS = PreferenceLoss()


def score_conversations(
    params: Params, shape: LlamaShape, conversations: Sequence[list[int]], pad: int
) -> np.ndarray:
    """The reward model's score of each conversation (token ids), in order."""
    out = []
    for start in range(0, len(conversations), SCORE_ROWS):
        rows = [c[: shape.context_length] for c in conversations[start : start + SCORE_ROWS]]
        width = max(len(r) for r in rows)
        inputs = np.full((len(rows), width), pad, dtype=np.int64)
        weights = np.zeros((len(rows), width), dtype=np.float32)
        for i, ids in enumerate(rows):
            inputs[i, : len(ids)] = ids
            weights[i, len(ids) - 1] = 1.0
        rewards, _, _ = _scores(params, shape, Batch(inputs, inputs, weights))
        out.append(np.asarray(rewards, dtype=np.float64))
    return np.concatenate(out) if out else np.zeros(0)


def accuracy(
    params: Params, shape: LlamaShape, pairs: Sequence[PairLike], tokenizer: TrainedTokenizer
) -> float:
    """Share of pairs (ties left out) whose chosen answer scores above the rejected."""
    decided = [p for p in pairs if not p.tie]
    if not decided:
        return float("nan")
    rows = [conversation(tokenizer, p.prompt, a) for p in decided for a in (p.chosen, p.rejected)]
    scores = score_conversations(params, shape, rows, pad_id(tokenizer))
    return float((scores[0::2] > scores[1::2]).mean())

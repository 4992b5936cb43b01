"""Conversations → masked token rows a training run learns from, and the batches it draws.

`prepare_chat_data` renders and tokenizes every conversation (`chat_masking`), cuts or
drops those longer than the context (counted), and holds some out: the validation loss
is measured on them, and the samples show the model answering their questions — ones it
never trained on. `ChatBatches` is the run's `DataSource`: rows padded to the longest in
the batch, padding and context weighted 0, the assistant's tokens 1.

Epochs are real: every training conversation is seen once per epoch, in an order drawn
from the seed and the epoch, so a resumed run draws the same batches it would have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from desktop.core.posttrain.chat_data import BadLine, Conversation
from desktop.core.posttrain.chat_masking import Encode, MaskedExample, Render, mask_conversation
from desktop.core.train.batches import Batch

Truncation = Literal["cut", "drop"]
MAX_SAMPLE_PROMPTS = 3


@dataclass(frozen=True, eq=False)
class SamplePrompt:
    """A held-out question and the tokens the model is prompted with (up to and including
    the generation prompt), for samples during training."""

    question: str
    ids: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class PreparedChat:
    train: tuple[MaskedExample, ...]
    validation: tuple[MaskedExample, ...]
    prompts: tuple[SamplePrompt, ...]
    bad_lines: tuple[BadLine, ...] = ()  # unreadable lines and unmaskable conversations
    cut: int = 0  # longer than the context: their end was cut off
    dropped: int = 0  # longer than the context with nothing to learn left in it: left out
    validation_is_training: bool = False  # too few conversations to hold any out

    @property
    def examples(self) -> tuple[MaskedExample, ...]:
        return self.train + (() if self.validation_is_training else self.validation)

    @property
    def tokens(self) -> int:
        return sum(len(e) for e in self.examples)

    @property
    def scored_tokens(self) -> int:
        return sum(e.scored for e in self.examples)

    @property
    def longest(self) -> int:
        return max((len(e) for e in self.examples), default=0)

    def summary(self) -> str:
        """One line: what the run will learn from."""
        held = (
            "none held out" if self.validation_is_training else f"{len(self.validation)} held out"
        )
        text = (f"{len(self.train)} conversations to train on, {held}; {self.tokens:,} tokens, "
                f"{self.scored_tokens:,} of them the assistant's (learned)")  # fmt: skip
        if self.cut or self.dropped:
            text += f"; longer than the context: {self.cut} cut, {self.dropped} dropped"
        if self.bad_lines:
            text += f"; {len(self.bad_lines)} skipped"
        return text


def prepare_chat_data(
    conversations: Sequence[Conversation],
    render: Render,
    encode: Encode,
    *,
    context: int,
    validation_share: float = 0.1,
    seed: int = 0,
    truncation: Truncation = "cut",
    bad_lines: Sequence[BadLine] = (),
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> PreparedChat:
    """Raises ValueError if nothing is left to train on (the reasons are in its message)."""
    masked: list[MaskedExample] = []
    problems = list(bad_lines)
    held = set(_held_out(len(conversations), validation_share, seed))
    prompts: list[SamplePrompt] = []
    cut = dropped = 0
    held_examples: list[MaskedExample] = []
    for n, conv in enumerate(conversations):
        if cancelled is not None and cancelled():
            raise InterruptedError("stopped while the data was being prepared")
        try:
            example = mask_conversation(conv, render, encode)
        except ValueError as exc:  # MaskingError, ChatTemplateError
            problems.append(BadLine(conv.line or n + 1, str(exc)))
            continue
        if len(example) > context + 1:  # a row reads `context` tokens and predicts the next
            if truncation == "drop" or not example.mask[: context + 1].any():
                dropped += 1
                continue
            cut += 1
            example = MaskedExample(example.ids[: context + 1], example.mask[: context + 1],
                                    example.text, example.line, example.title)  # fmt: skip
        if n in held:
            held_examples.append(example)
            if len(prompts) < MAX_SAMPLE_PROMPTS and (
                prompt := _sample_prompt(conv, render, encode)
            ):
                prompts.append(prompt)
        else:
            masked.append(example)
        if progress is not None:
            progress(n + 1, len(conversations))
    if not masked:
        reasons = "; ".join(str(b) for b in problems[:3]) or "every conversation was held out"
        raise ValueError(f"nothing to train on: {reasons}")
    together = not held_examples
    if together:  # too few to hold any out: measure on the training data (and say so)
        held_examples = masked[: max(1, len(masked) // 10)]
        convs = [c for n, c in enumerate(conversations) if n not in held][:MAX_SAMPLE_PROMPTS]
        prompts = [p for c in convs if (p := _sample_prompt(c, render, encode))]
    return PreparedChat(tuple(masked), tuple(held_examples), tuple(prompts), tuple(problems),
                        cut, dropped, together)  # fmt: skip


def _held_out(n: int, share: float, seed: int) -> list[int]:
    """Which conversations are held out: a seeded choice of `share` of them (at least one
    once there are 5), none below that."""
    if n < 5 or share <= 0:
        return []
    count = min(n - 1, max(1, round(n * share)))
    return sorted(np.random.default_rng(seed).choice(n, size=count, replace=False).tolist())


def _sample_prompt(conv: Conversation, render: Render, encode: Encode) -> SamplePrompt | None:
    """The conversation up to its first assistant turn, as the model would be prompted."""
    messages = []
    for m in conv.messages:
        if m.role == "assistant":
            break
        messages.append({"role": m.role, "content": m.content})
    try:
        ids = encode(render(messages, True))
    except ValueError:
        return None
    return SamplePrompt(conv.first_user, tuple(ids))


@dataclass(eq=False)
class ChatBatches:
    """The `DataSource` of a fine-tuning run. Training rows go through the conversations
    epoch by epoch, each epoch in its own seeded order; `start_row` is where a resumed
    run picks up (its step × batch size)."""

    train: Sequence[MaskedExample]
    validation: Sequence[MaskedExample]
    pad_id: int
    seed: int = 0
    start_row: int = 0
    _orders: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._row = self.start_row

    def train_batch(self, rng: np.random.Generator, rows: int, context: int) -> Batch:
        n = len(self.train)
        chosen = []
        for _ in range(rows):
            epoch, position = divmod(self._row, n)
            chosen.append(self.train[int(self._order(epoch)[position])])
            self._row += 1
        return batch_of(chosen, self.pad_id, context)

    def eval_batch(
        self, rng: np.random.Generator, rows: int, context: int, *, validation: bool
    ) -> Batch:
        pool = self.validation if validation else self.train
        picks = rng.choice(len(pool), size=min(rows, len(pool)), replace=False)
        return batch_of([pool[int(i)] for i in picks], self.pad_id, context)

    def _order(self, epoch: int) -> np.ndarray:
        if epoch not in self._orders:
            self._orders.clear()  # only the current epoch is ever needed again
            rng = np.random.default_rng([self.seed, epoch])
            self._orders[epoch] = rng.permutation(len(self.train))
        return self._orders[epoch]


def batch_of(examples: Sequence[MaskedExample], pad_id: int, context: int) -> Batch:
    """Rows of inputs and next-token targets, padded to the longest (at most `context`);
    a target's weight is 1 where that token is the assistant's, else 0."""
    time = min(context, max(len(e) - 1 for e in examples))
    inputs = np.full((len(examples), time), pad_id, dtype=np.int32)
    targets = np.full((len(examples), time), pad_id, dtype=np.int32)
    weights = np.zeros((len(examples), time), dtype=np.float32)
    for row, e in enumerate(examples):
        n = min(time, len(e) - 1)
        inputs[row, :n] = e.ids[:n]
        targets[row, :n] = e.ids[1 : n + 1]
        weights[row, :n] = e.mask[1 : n + 1]
    return Batch(inputs, targets, weights)

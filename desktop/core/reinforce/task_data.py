"""Training data for a task model, made fresh for every batch: the two stages that make
the starting point for RL.

* `ReferenceText` (pretraining): lines of what the task needs known — spellings, sums,
  ordered numbers — every token learned.
* `TaskExamples` (supervised fine-tuning): conversations, the user's question and a
  teacher's answer, learned on the answer's tokens only (a 0/1 loss mask). The teacher
  shows the working in `worked_share` of the answers and gives the answer alone in the
  rest, as people writing examples do: imitating both, the model learns both, and a
  guessed answer is often wrong. RL later finds out which pays.

Batches are padded to their longest row (no longer than the context); padding and the
prompt carry weight 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from desktop.core.reinforce.chat_format import answer_ids, pad_id, prompt_ids
from desktop.core.reinforce.tasks import HELD_OUT, TRAIN, Task
from desktop.core.train.batches import Batch
from desktop.core.train.trained_tokenizer import TrainedTokenizer


def padded_batch(rows: Sequence[tuple[list[int], list[float]]], pad: int, context: int) -> Batch:
    """Rows of (token ids, weight of predicting each id), cut to `context` + 1 tokens and
    padded to the longest: inputs are ids[:-1], targets ids[1:]."""
    width = min(context, max(len(ids) for ids, _ in rows) - 1)
    inputs = np.full((len(rows), width), pad, dtype=np.int64)
    targets = np.full((len(rows), width), pad, dtype=np.int64)
    weights = np.zeros((len(rows), width), dtype=np.float32)
    for r, (ids, weight) in enumerate(rows):
        ids, weight = ids[: width + 1], weight[: width + 1]
        n = len(ids) - 1
        inputs[r, :n], targets[r, :n] = ids[:-1], ids[1:]
        weights[r, :n] = weight[1:]
    return Batch(inputs, targets, weights)


@dataclass(frozen=True, eq=False)
class TaskExamples:
    """Conversations with a teacher's answers; the loss on the answers only."""

    task: Task
    tokenizer: TrainedTokenizer
    difficulty: int
    worked_share: float = 0.5

    def conversation(self, rng: np.random.Generator, split: str) -> tuple[list[int], list[float]]:
        problem = self.task.problem(rng, self.difficulty, split)
        answer = problem.worked if rng.random() < self.worked_share else problem.direct
        prompt, reply = (
            prompt_ids(self.tokenizer, problem.prompt),
            answer_ids(self.tokenizer, answer),
        )
        return prompt + reply, [0.0] * len(prompt) + [1.0] * len(reply)

    def train_batch(self, rng: np.random.Generator, rows: int, context: int) -> Batch:
        conversations = [self.conversation(rng, TRAIN) for _ in range(rows)]
        return padded_batch(conversations, pad_id(self.tokenizer), context)

    def eval_batch(
        self, rng: np.random.Generator, rows: int, context: int, *, validation: bool
    ) -> Batch:
        split = HELD_OUT if validation else TRAIN
        conversations = [self.conversation(rng, split) for _ in range(rows)]
        return padded_batch(conversations, pad_id(self.tokenizer), context)


@dataclass(frozen=True, eq=False)
class ReferenceText:
    """Worked problems as plain text, one after another, as many as fill a row; every
    token counts. What pretraining on a web full of worked examples would teach."""

    task: Task
    tokenizer: TrainedTokenizer
    difficulty: int

    def row(
        self, rng: np.random.Generator, context: int, split: str
    ) -> tuple[list[int], list[float]]:
        ids: list[int] = []
        while len(ids) < context + 1:
            problem = self.task.problem(rng, self.difficulty, split)
            ids += self.tokenizer.encode(f"{problem.prompt}\n{problem.worked}\n\n")
        return ids[: context + 1], [1.0] * (context + 1)

    def train_batch(self, rng: np.random.Generator, rows: int, context: int) -> Batch:
        return padded_batch([self.row(rng, context, TRAIN) for _ in range(rows)],
                            pad_id(self.tokenizer), context)  # fmt: skip

    def eval_batch(
        self, rng: np.random.Generator, rows: int, context: int, *, validation: bool
    ) -> Batch:
        split = HELD_OUT if validation else TRAIN
        return padded_batch([self.row(rng, context, split) for _ in range(rows)],
                            pad_id(self.tokenizer), context)  # fmt: skip

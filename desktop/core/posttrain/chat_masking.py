"""A conversation as the model reads it — rendered through its chat template, tokenized by
its own tokenizer — and which of those tokens carry the loss: the assistant's.

Supervised fine-tuning teaches the model to *answer*, not to write the user's questions:
only tokens inside assistant turns are scored (weight 1), everything else is context
(weight 0), so the gradient never pushes the model towards what the user or the system
prompt said.

Where each assistant turn begins and ends in the rendered text comes from the template
itself, rendered turn by turn: the turn starts where the conversation up to it, plus the
generation prompt (`<|im_start|>assistant\\n`), ends — exactly the prompt the model gets
in the Chat tab — and ends where the conversation including it ends (so the end-of-turn
marker, `<|im_end|>`, is learned too: that is how the model learns to stop). A template
that does not render a conversation as the sum of its turns cannot be masked this way,
and says so.

The whole text is tokenized once; each boundary is found by tokenizing the text up to it
and matching that against the whole (a token that straddles a boundary goes to the side
before it, so it is never learned by accident).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop.core.posttrain.chat_data import Conversation

# (messages, add_generation_prompt) -> the prompt text. The app renders in the template
# renderer's child process (a template is code from a downloaded file).
Render = Callable[[Sequence[Mapping[str, str]], bool], str]
Encode = Callable[[str], list[int]]
Ids = npt.NDArray[np.int32]
Mask = npt.NDArray[np.uint8]


class MaskingError(ValueError):
    """A conversation that cannot be rendered or masked; the message says why."""


@dataclass(frozen=True, eq=False)
class MaskedExample:
    ids: Ids  # the whole conversation's tokens
    mask: Mask  # 1 where the token is the assistant's own (learned), 0 where it is context
    text: str  # the rendered conversation
    line: int = 0  # where the conversation was read
    title: str = ""  # its first question, to list it by

    @property
    def scored(self) -> int:
        return int(self.mask.sum())

    def __len__(self) -> int:
        return len(self.ids)


def assistant_spans(
    messages: Sequence[Mapping[str, str]], render: Render, trained: Sequence[bool] | None = None
) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the (start, end) character span of every assistant
    turn to learn (all of them, or those `trained` marks): its content and end-of-turn
    marker, without trailing whitespace."""
    text = render(messages, False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant" or (trained is not None and not trained[i]):
            continue
        before = render(messages[:i], True)
        through = render(messages[: i + 1], False)
        if not (text.startswith(through) and through.startswith(before)):
            raise MaskingError(
                "the chat template does not write this conversation turn by turn (it "
                "changes earlier turns as later ones come), so the assistant's part "
                "cannot be found in it"
            )
        end = len(through.rstrip())
        if end > len(before):
            spans.append((len(before), end))
    return text, spans


def mask_conversation(conversation: Conversation, render: Render, encode: Encode) -> MaskedExample:
    """The conversation's tokens, with the assistant's marked (`MaskingError` if it
    cannot be rendered or has nothing of the assistant's left to learn)."""
    messages = [{"role": m.role, "content": m.content} for m in conversation.messages]
    trained = [m.trained for m in conversation.messages]
    text, spans = assistant_spans(messages, render, trained)
    ids = encode(text)
    mask = np.zeros(len(ids), dtype=np.uint8)
    for start, end in spans:
        first = _boundary(ids, encode(text[:start]))
        last = _boundary(ids, encode(text[:end]))
        mask[first:last] = 1
    if not mask.any():
        raise MaskingError("no assistant token is left to learn from")
    ids_array = np.asarray(ids, dtype=np.int32)
    return MaskedExample(ids_array, mask, text, conversation.line, conversation.first_user)


def _boundary(whole: list[int], prefix: list[int]) -> int:
    """Where the text up to a boundary ends in the whole text's tokens: the length of
    their common beginning (the prefix's last token may differ when a merge spans the
    boundary; that token then counts as before it)."""
    n = min(len(whole), len(prefix))
    same = np.flatnonzero(np.asarray(whole[:n]) != np.asarray(prefix[:n]))
    return int(same[0]) if len(same) else n

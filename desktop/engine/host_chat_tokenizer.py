"""A GGUF model's own tokenizer and chat template, for fine-tuning data.

The tokenizer is llama.cpp's, loaded `vocab_only` in a model-host process of its own
(`GGUFTokenizer`): ids are exactly those the model reads in the Chat tab — for any
tokenizer llama.cpp knows — and llama.cpp never runs in the app's own process. The
template renders in the template renderer's child process, with its time and memory
limits. Qt-free: the command line and the Post-train tab's worker both use it.

A model without a chat template (the Train tab's, a base model) is taught ChatML, whose
special tokens the Train tab reserves in every vocabulary it trains; the export then
carries that template, so the Chat tab talks to the model the way it was taught.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from desktop.core.chat.prompt_builder import TemplateInfo
from desktop.core.models.gguf_writer import CHATML_TEMPLATE
from desktop.engine.gguf_tokenizer import GGUFTokenizer
from desktop.engine.host_session import SessionError
from desktop.engine.protocol import LoadedModel
from desktop.engine.template_renderer import render_safely


class HostChatTokenizer:
    """`core.posttrain.chat_tokenizer.ChatTokenizer` for a GGUF file. After `close()` the
    vocabulary is still known (pieces, end tokens: what samples need); encoding is not."""

    def __init__(self, path: str | Path, tokenizer: GGUFTokenizer | None = None) -> None:
        self._tokenizer = tokenizer or GGUFTokenizer()
        self.model: LoadedModel = self._tokenizer.open(path)  # SessionError with a sentence
        self.template = self.model.template
        self.chat_template = self.template.chat_template or CHATML_TEMPLATE
        self.own_template = bool(self.template.chat_template)

    @property
    def n_vocab(self) -> int:
        return len(self.model.vocabulary)

    @property
    def end_ids(self) -> frozenset[int]:
        return self.model.end_ids

    @property
    def pad_id(self) -> int:
        return min(self.model.end_ids, default=0)

    def encode(self, text: str) -> list[int]:
        """As the Chat tab's prompt is tokenized: special tokens parsed, BOS if the model
        wants one (never two, when the template writes it too)."""
        return list(self._tokenizer.tokenize(text, parse_special=True, as_prompt=True).ids)

    def piece(self, token_id: int) -> bytes:
        vocabulary = self.model.vocabulary  # kept after close(), unlike the tokenizer's
        return vocabulary[token_id] if 0 <= token_id < len(vocabulary) else b""

    def render(self, messages: Sequence[Mapping[str, str]], add_generation_prompt: bool) -> str:
        return render_chat_template_of(self.template, self.chat_template, messages,
                                       add_generation_prompt)  # fmt: skip

    @property
    def template_note(self) -> str:
        if self.own_template:
            return "the model's own chat template"
        chatml = all(self._is_one_token(t) for t in ("<|im_start|>", "<|im_end|>"))
        return ("ChatML (the model has no chat template; its vocabulary has ChatML's tokens)"
                if chatml else "ChatML (the model has no chat template, nor ChatML's special "
                "tokens: the markers are learned as ordinary text)")  # fmt: skip

    def _is_one_token(self, text: str) -> bool:
        try:
            return len(self._tokenizer.tokenize(text, parse_special=True).ids) == 1
        except SessionError:  # a closed host: no claim either way
            return False

    def close(self) -> None:
        self._tokenizer.close()


def render_chat_template_of(
    info: TemplateInfo,
    template: str,
    messages: Sequence[Mapping[str, str]],
    add_generation_prompt: bool,
) -> str:
    return render_safely(
        template,
        list(messages),
        bos_token=info.bos_token,
        eos_token=info.eos_token,
        add_generation_prompt=add_generation_prompt,
    )

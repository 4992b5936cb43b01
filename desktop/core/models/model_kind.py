"""Base or instruct: whether a model was trained only to continue text, or to chat.

One rule for every tab (the Chat tab's default prompt mode, the Quiz tab's way of asking):
the name decides when it says (a base model's GGUF often carries a chat template it was
never trained on, and the Train tab's own exports carry ChatML for post-training), else
whether there is a chat template."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from desktop.core.chat.prompt_builder import TemplateInfo

ModelKind = Literal["base", "instruct"]

# Words in a model's file name or header name that say what it is. "it" (Gemma's
# "-it"), "instruct", "chat" …: trained to chat; "base" or Gemma's "pt": pretrained only.
_INSTRUCT_WORDS = frozenset({"it", "instruct", "chat", "sft", "dpo", "rlhf", "assistant"})
_BASE_WORDS = frozenset({"base", "pt", "pretrained"})


def detect_kind(template: TemplateInfo, names: Sequence[str]) -> tuple[ModelKind, str]:
    """Base or instruct, and why: the name decides if it says (a base model's GGUF often
    carries a chat template it was never trained on), else whether there is a template."""
    for name in names:
        words = set(re.split(r"[^a-z0-9]+", name.casefold()))
        if hit := sorted(words & _INSTRUCT_WORDS):
            return "instruct", f"its name says “{hit[0]}”"
        if hit := sorted(words & _BASE_WORDS):
            return "base", f"its name says “{hit[0]}”"
    if template.chat_template:
        return "instruct", "it has a chat template"
    return "base", "it has no chat template"


def model_names(path: str, header_name: str) -> list[str]:
    """The names that may say what a model is: its file's and its header's."""
    return [Path(path).stem, header_name]

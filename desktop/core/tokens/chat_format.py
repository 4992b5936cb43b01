"""What a conversation really becomes before a model reads it.

A GGUF model formats messages with its own chat template, or - a base model - as the
Chat tab's base-model transcript (desktop/core/chat/prompt_builder.py, so both tabs agree). A
tiktoken encoding has no template: OpenAI's models use ChatML
(`<|im_start|>role\\ncontent<|im_end|>`), and o200k_harmony its own "harmony" format
(`<|start|>role<|message|>content<|end|>`); both are shown with their special tokens,
which the tokenizer then parses as control tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop.core.chat.generation import ChatMessage

HARMONY_MARKERS = ("<|start|>", "<|message|>", "<|end|>")


def chatml(messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> str:
    text = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def harmony(messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> str:
    text = "".join(f"<|start|>{m.role}<|message|>{m.content}<|end|>" for m in messages)
    return text + ("<|start|>assistant" if add_generation_prompt else "")


def tiktoken_chat_prompt(messages: Sequence[ChatMessage], special_tokens: Sequence[str]) -> str:
    """The prompt for an OpenAI encoding: harmony where the encoding has its markers."""
    if all(marker in special_tokens for marker in HARMONY_MARKERS):
        return harmony(messages)
    return chatml(messages)

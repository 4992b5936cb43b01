"""Models to start with, as base / instruct pairs: the same network before and after
post-training, so a class can see what turns a document completer into an assistant.
Only names: the files are listed from the Hub when one is chosen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SuggestedPair:
    family: str
    size: str
    base_repo: str
    instruct_repo: str
    why: str


SUGGESTED: tuple[SuggestedPair, ...] = (
    SuggestedPair("SmolLM2", "135M", "QuantFactory/SmolLM2-135M-GGUF",
                  "bartowski/SmolLM2-135M-Instruct-GGUF",
                  "Tiny and fast on any laptop; first run and classroom demos."),
    SuggestedPair("SmolLM2", "360M", "QuantFactory/SmolLM2-360M-GGUF",
                  "bartowski/SmolLM2-360M-Instruct-GGUF",
                  "Still quick; noticeably better answers."),
    SuggestedPair("Qwen2.5", "0.5B", "QuantFactory/Qwen2.5-0.5B-GGUF",
                  "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
                  "Multilingual; a good tokenizer to compare in the Tokens tab."),
    SuggestedPair("Llama 3.2", "1B", "QuantFactory/Llama-3.2-1B-GGUF",
                  "bartowski/Llama-3.2-1B-Instruct-GGUF",
                  "The Llama family the talk describes; needs about 2 GB."),
)  # fmt: skip

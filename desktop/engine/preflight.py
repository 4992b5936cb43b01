"""The check run before a file is handed to llama.cpp (which may crash on a bad one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.core.chat.generation import LoadSettings
from desktop.core.models.gguf_check import check_gguf
from desktop.core.models.model_info import ModelInfo


@dataclass(frozen=True)
class Verdict:
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    info: ModelInfo | None = None


def preflight(path: str, settings: LoadSettings) -> Verdict:
    result = check_gguf(path, tokenizer_only=settings.vocab_only)
    if not result.ok:
        return Verdict(error=" ".join(result.errors) or f"{path} cannot be loaded.")
    return Verdict(warnings=list(result.warnings), info=result.info)

"""The settings of a quiz run, in a module of their own: the app's settings table reads
their defaults at start-up without loading the grading and asking code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

DEFAULT_REFUSAL = "I'm sorry, I don't know the answer to that."


@dataclass(frozen=True)
class QuizSettings:
    samples: int = 3  # K: each question asked this many times per mode
    temperature: float = 0.7
    max_tokens: int = 32
    open_book: bool = True
    judge: bool = False  # let the model itself grade, with the article as reference
    seed: int = 0  # < 0: a fresh random seed per answer
    knows_at: float = 0.67  # closed-book accuracy from which the model "knows"
    doesnt_know_at: float = 0.34  # ... and up to which it does not; unsure between
    # Wrong answers given with a mean token probability from this on (or the same wrong
    # answer most of the time) are "hallucinates"; scattered, unsure ones "doesn't know".
    confident_at: float = 0.5
    refusal: str = DEFAULT_REFUSAL
    ask_as: str = "auto"  # "base", "instruct", or "auto": read from the model
    may_refuse: bool = False  # the prompt says (or shows) that "I don't know" is fine
    # How the run asked: "base" or "instruct", fixed when it starts (the model and
    # `ask_as` decide). "" in runs from before it was recorded, which chatted.
    asked_as: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuizSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def problems(self) -> list[str]:
        found = []
        if not 1 <= self.samples <= 20:
            found.append("samples per question must be 1–20")
        if not 0.0 <= self.doesnt_know_at < self.knows_at <= 1.0:
            found.append("thresholds must satisfy 0 ≤ doesn't-know < knows ≤ 1")
        if self.temperature < 0:
            found.append("temperature cannot be negative")
        if not 0.0 <= self.confident_at <= 1.0:
            found.append("the confidence for 'hallucinates' must be 0–1")
        if self.ask_as not in ("auto", "base", "instruct"):
            found.append("ask as must be auto, base or instruct")
        return found

"""A question with its reference answer: the unit every part of the quiz works on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

QASource = Literal["model", "rules", "manual", "import"]


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    source: QASource = "manual"

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
    # The text a base model continues to give the answer: the article's sentence up to the
    # missing fact ("Apollo 11 was launched from Kennedy Space Center in Florida on"). A
    # base model answers a continuation far better than a question; "" when there is none
    # (typed or model-written questions), and the question is asked instead.
    stem: str = ""

"""The quiz's product: a fine-tuning set in OpenAI's chat `messages` JSONL format.

Where the model knows, the example teaches the reference answer; where it hallucinates or
doesn't know (and, if chosen, where it is only sometimes right: a lucky guess is not
knowledge), it teaches a refusal. This is the Llama 3 recipe for reducing hallucinations;
the "hallucinates" questions are the ones it is for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.quiz.results import QuestionResult
from desktop.core.quiz.settings import QuizSettings
from desktop.core.storage.atomic_files import write_text_atomically


@dataclass(frozen=True)
class QuizTrainingSet:
    """A run's training set on its way to the Post-train tab ("Post-train on this"), with
    what "Quiz again" needs: which run made it, on which model."""

    examples: tuple[dict[str, Any], ...]
    quiz_run_id: int
    model_path: str
    title: str  # the article's


def sft_examples(
    questions: Sequence[QuestionResult], settings: QuizSettings, *, unsure_refuses: bool = True
) -> list[dict[str, Any]]:
    examples = []
    for q in questions:
        if q.verdict is None or (q.verdict == "unsure" and not unsure_refuses):
            continue
        reply = q.pair.answer if q.verdict == "knows" else settings.refusal
        examples.append(
            {
                "messages": [
                    {"role": "user", "content": q.pair.question},
                    {"role": "assistant", "content": reply},
                ]
            }
        )
    return examples


def write_sft_jsonl(path: Path, examples: Sequence[dict[str, Any]]) -> None:
    lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples)
    write_text_atomically(path, lines)

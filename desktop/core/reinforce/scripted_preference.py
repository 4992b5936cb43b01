"""A preference without a person, for tests and demos: a rule that picks the better of
two answers — one that contains a given word, or the shorter one.

Each rule also wants the answer to be *well formed* (ends as a sentence, repeats no word
three times running, no longer than a few lines): the writer's own answers always are,
so the pairs a reward model learns from never show that part of the rule. RL against the
learned reward can drift into text the rule would reject and the reward model still
likes — reward hacking, made visible because here the rule is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from desktop.core.storage.preferences import PreferencePair

SOURCE_SCRIPTED = "scripted"  # PreferencePair.source of a rule's pairs

MAX_LINES = 3
_WORD = re.compile(r"[a-z']+")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def well_formed(text: str) -> bool:
    text = text.strip()
    if not text or text[-1] not in ".!?" or len(text.splitlines()) > MAX_LINES:
        return False
    found = words_of(text)
    return not any(found[i] == found[i + 1] == found[i + 2] for i in range(len(found) - 2))


@dataclass(frozen=True)
class ScriptedPreference:
    """`kind` "word": prefers answers with `word` in them; "shorter": the shorter one."""

    kind: str = "word"
    word: str = "cat"

    @property
    def title(self) -> str:
        if self.kind == "shorter":
            return "prefers the shorter answer"
        return f"prefers answers with the word “{self.word}”"

    def score(self, answer: str) -> float:
        """What the rule thinks of one answer (higher is better); 0 if ill formed."""
        if not well_formed(answer):
            return 0.0
        if self.kind == "shorter":
            return 1.0 + 1.0 / (1 + len(answer))
        return 2.0 if self.word in words_of(answer) else 1.0

    def judge(self, a: str, b: str) -> str:
        """ "a", "b" or "tie"."""
        sa, sb = self.score(a), self.score(b)
        return "tie" if sa == sb else "a" if sa > sb else "b"


def scripted_pairs(
    preference: ScriptedPreference,
    prompts: Sequence[str],
    answers: Sequence[tuple[str, str]],
) -> list[PreferencePair]:
    """Pairs from two answers to each prompt, chosen by the rule; ties are left out."""
    out = []
    for prompt, (a, b) in zip(prompts, answers, strict=True):
        verdict = preference.judge(a, b)
        if verdict == "a":
            out.append(PreferencePair(prompt, a, b, source=SOURCE_SCRIPTED))
        elif verdict == "b":
            out.append(PreferencePair(prompt, b, a, source=SOURCE_SCRIPTED))
    return out


def agreement(preference: ScriptedPreference, answers: Sequence[str],
              rewards: np.ndarray) -> float:  # fmt: skip
    """Over every two answers the rule tells apart: the share the reward model orders the
    same way. 1.0: it still agrees with the rule; falling: it is being fooled."""
    agree = total = 0
    for i in range(len(answers)):
        for j in range(i + 1, len(answers)):
            verdict = preference.judge(answers[i], answers[j])
            if verdict == "tie":
                continue
            total += 1
            agree += (rewards[i] > rewards[j]) == (verdict == "a")
    return agree / total if total else float("nan")

"""What else an answer claims besides the reference: SimpleQA's rules that an answer naming
the right thing is still not correct when it offers other candidates beside it ("Paris or
Lyon", "Neil Armstrong and Buzz Aldrin" for one commander) or takes it back ("Paris. No
wait, Lyon."). Hedging words alone ("I think it's Paris") are fine, as in SimpleQA.

Works on the normalised tokens of `answer_normalisation`, plus the original text where
case says what a word is (a capitalised name is a candidate for a name).
"""

from __future__ import annotations

import re

from desktop.core.quiz.answer_normalisation import DATE_TOKEN, NUMBER_TOKEN, answer_tokens

# fmt: off
# Framing words that say nothing about the answer; left out when comparing content.
STOP = {"i", "im", "it", "its", "is", "was", "were", "be", "been", "are", "am", "do", "does",
        "did", "think", "believe", "guess", "answer", "of", "in", "on", "at", "by", "for", "to",
        "and", "that", "this", "which", "who", "he", "she", "they", "his", "her", "their", "my",
        "me", "as", "with", "from", "called", "named", "known", "so", "would", "say",
        "probably", "maybe", "perhaps", "likely", "sure", "not", "but", "dont", "know", "mr",
        "mrs", "ms", "dr", "sir", "either"}
# fmt: on
# "A, B and C", "A and B", "A or B": the items of a list (a comma alone is an apposition,
# "Paris, France", and is split only inside a list that has an "and" or "or").
_LIST_SPLIT = re.compile(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")
_JOINED = re.compile(r"\s(?:and|or)\s")
_LEADING = re.compile(r"^\W*(?:(?:it|that|this)\s+(?:is|was)\s+)?(?:the|a|an)?\s*", re.I)
# A sentence opening with one of these takes back what came before it.
_CORRECTION = re.compile(
    r"^\W*(?:no\s*[,.!;:-]|no\s+wait|wait\b|actually\b|sorry\s*[,.!]|correction\b"
    r"|i\s+mean\b|or\s+rather\b|rather\s*,)",
    re.I,
)


def content(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in STOP]


def hedged(sentences: list[list[str]], reference: list[str]) -> float | None:
    """1/candidates if a sentence naming the answer offers alternatives ("Paris or London")."""
    if "or" in reference:
        return None
    ref = set(reference)
    for tokens in sentences:
        parts = f" {' '.join(tokens)} ".split(" or ")
        sets = [set(c) for p in parts if (c := content(p.split()))]
        if len(sets) < 2 or not any(s & ref for s in sets):
            continue
        best = max(sets, key=lambda s: len(s & ref))
        if any(s - ref for s in sets if s is not best):
            return 1 / len(sets)
    return None


def listed(sentences: list[str], reference: list[str], reference_text: str) -> float | None:
    """1/candidates if a sentence lists the reference beside others of its kind: other
    names for a name ("Neil Armstrong and Buzz Aldrin"), other numbers for a number. Words
    of another kind are what the sentence goes on to say ("Gustave Eiffel and his
    company", "1893 and a second one in 1894"), not candidates."""
    if {"and", "or"} & set(reference):
        return None
    want = content(reference) or reference
    for sentence in sentences:
        if not _JOINED.search(sentence):
            continue
        parts = [p for p in _LIST_SPLIT.split(sentence) if p.strip()]
        tokens = [answer_tokens(p) for p in parts]
        named = [i for i, t in enumerate(tokens) if (content(t) or t) == want]
        if len(parts) < 2 or not named:
            continue
        # The list is the run of candidates next to the reference: "1893 and a second
        # one, in mathematics, in 1902" goes on to other things after "1893".
        found = 0
        for step in (-1, 1):
            i = named[0] + step
            while 0 <= i < len(parts) and _candidate(parts[i], reference, reference_text):
                found, i = found + 1, i + step
        if found:
            return 1 / (1 + found)
    return None


def _candidate(part: str, reference: list[str], reference_text: str) -> bool:
    every = answer_tokens(part)
    tokens = content(every)
    if not tokens:
        return False
    if all(NUMBER_TOKEN.fullmatch(t) or DATE_TOKEN.fullmatch(t) for t in reference):
        # a bare figure ("1889, 1890"); "in 1902" is another fact, not another answer
        return len(every) == 1 and bool(NUMBER_TOKEN.fullmatch(every[0]) or
                                        DATE_TOKEN.fullmatch(every[0]))  # fmt: skip
    if any(c.isdigit() for t in tokens for c in t) or len(tokens) > len(reference) + 2:
        return False
    words = _LEADING.sub("", part.strip())
    name = reference_text.strip()[:1].isupper()
    return words[:1].isupper() == name  # a name for a name, a word for a word


def corrected(sentences: list[str], reference: list[str]) -> bool:
    """A sentence after the one naming the reference takes it back ("No wait, Lyon.")."""
    tokens = [answer_tokens(s) for s in sentences]
    for i, words in enumerate(tokens):
        if _mentions(words, reference):
            later = sentences[i + 1 :]
            return any(_CORRECTION.match(s) and not _mentions(answer_tokens(s), reference)
                       for s in later)  # fmt: skip
    return False


def _mentions(tokens: list[str], reference: list[str]) -> bool:
    n = len(reference)
    return any(tokens[i : i + n] == reference for i in range(len(tokens) - n + 1))

"""Grade a model's reply against a reference answer with SimpleQA's labels.

Cheap rules first (each names its `method`, so the user sees why): exact and contained
answers, stated numbers, refusals, then word overlap, all on `answer_normalisation`'s
tokens; an answer that offers other candidates or takes itself back is not correct
(`answer_claims`). `judge_messages` and `parse_judge_reply` let a model grade what the rules can't.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from desktop.core.chat.generation import ChatMessage
from desktop.core.quiz.answer_claims import content, corrected, hedged, listed
from desktop.core.quiz.answer_normalisation import (
    DATE_TOKEN,
    DAY_MONTH_TOKEN,
    NUMBER_TOKEN,
    answer_tokens,
    normalize_answer,
)

Grade = Literal["CORRECT", "INCORRECT", "NOT_ATTEMPTED"]
GradeMethod = Literal[
    "exact",
    "contains",
    "overlap",
    "number",
    "refusal",
    "empty",
    "judge",
    "negation",
    "candidates",
]


@dataclass(frozen=True)
class GradeResult:
    grade: Grade
    method: GradeMethod  # how the grade was decided, shown to the user
    score: float  # 0..1 similarity used (1.0 for exact), for display


# fmt: off
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "jr", "sr", "vs", "etc", "mt", "ft", "approx"}
# fmt: on

_NEGATIONS = ("cannot", "cant", "can not", "couldnt", "could not", "unable to", "not able to")
_VERBS = ("answer", "provide", "determine", "say", "find", "recall", "confirm", "verify", "tell")
_REFUSALS = (
    *(f"{neg} {verb}" for neg in _NEGATIONS for verb in _VERBS),
    *("not know", "dont know", "doesnt know", "not sure", "unsure", "not certain", "no idea"),
    *("is unknown", "remains unknown", "no information", "have information", "not aware"),
    *("no one knows", "nobody knows", "not known"),
    *("have any information", "not have access", "dont have access", "dont recall", "idk"),
    # what models say about an invented subject
    *("not familiar with", "no such", "not real", "is fictional", "does not exist"),
    *("doesnt exist", "not possible to say", "impossible to say", "no record", "no records"),
)
_SHORT_REFUSALS = {"unknown", "dunno", "pass", "no answer", "n", "sorry"}  # "N/A" -> "n"
# A refusal followed by one of these is a guess, graded by what it says (SimpleQA does too).
_GUESSES = (
    *("i think", "i believe", "i guess", "my guess", "best guess", "would guess", "would say"),
    *("id say", "id guess", "it might be", "it could be", "it may be", "maybe it is"),
    *("perhaps it is", "maybe it was", "perhaps it was", "might have been", "may have been"),
    *("could have been", "is probably", "was probably", "most likely", "if i had to"),
    *("not sure but", "not certain but", "dont know but", "but it is", "but it was"),
    *("maybe", "perhaps", "possibly", "probably"),
)
# Words that deny what follows them: "It is not Paris" does not answer "Paris".
_DENIALS = {"not", "never", "isnt", "wasnt", "arent", "werent", "no"}


def _sentences(text: str) -> list[str]:
    """Lines, then sentences; "Dr. Smith", "J. R. R. Tolkien" and "3.14" are not split."""
    out: list[str] = []
    for line in re.sub(r"[*_`#>]", "", text).splitlines():
        start = 0
        for m in re.finditer(r"(\w*)[.!?]+(?=\s|$)", line):
            word = m.group(1)
            if (len(word) == 1 and word.isalpha()) or word.casefold() in _ABBREVIATIONS:
                continue
            out.append(line[start : m.end()])
            start = m.end()
        out.append(line[start:])
    return [s.strip() for s in out if s.strip()]


def is_refusal(text: str) -> bool:
    """The reply declines to answer: a refusal in its opening and no guess anywhere after."""
    whole = normalize_answer(text)
    if whole in _SHORT_REFUSALS:
        return True
    opening = f" {' '.join(normalize_answer(s) for s in _sentences(text)[:2])} "
    if not any(f" {p} " in opening for p in _REFUSALS):
        return False
    return not any(f" {g} " in f" {whole} " for g in _GUESSES)


def _token_matches(answer: str, reference: str) -> bool:
    # A fuller date answers a month/year reference: "1969-07-20" for "1969-07", and a
    # day and month one: "1969-07-21" for "07-21" ("21 July").
    if answer == reference:
        return True
    if DATE_TOKEN.fullmatch(reference):
        return answer.startswith(reference + "-")
    return bool(DAY_MONTH_TOKEN.fullmatch(reference)) and bool(
        DATE_TOKEN.fullmatch(answer) and answer.endswith("-" + reference)
    )


def _contains(answer: list[str], reference: list[str]) -> bool:
    return bool(_occurrences(answer, reference))


def _occurrences(answer: list[str], reference: list[str]) -> list[int]:
    n = len(reference)
    return [
        i
        for i in range(len(answer) - n + 1)
        if all(_token_matches(answer[i + k], reference[k]) for k in range(n))
    ]


def _denied(answer: list[str], reference: list[str]) -> bool:
    """Every mention of the reference comes right after a denial ("not Paris")."""
    found = _occurrences(answer, reference)
    return bool(found) and all(i > 0 and answer[i - 1] in _DENIALS for i in found)


def _numbers(tokens: list[str]) -> set[str]:
    """Numbers stated, counting the year of a date ("July 4, 1776" states 1776)."""
    found = {t for t in tokens if NUMBER_TOKEN.fullmatch(t)}
    return found | {str(int(m.group(1))) for t in tokens if (m := DATE_TOKEN.fullmatch(t))}


def _reference_number(reference: list[str]) -> str | None:
    # "1,000" or "330 metres"; not "Apollo 11" or "Boeing 747", where the number is a name.
    first, rest = reference[0], reference[1:]
    if NUMBER_TOKEN.fullmatch(first) and len(rest) <= 2 and not _numbers(rest):
        return first
    return None


def _overlap(answer: list[str], reference: list[str]) -> tuple[float, float, float]:
    """SQuAD-style (precision, recall, F1) over content words."""
    a, r = content(answer) or answer, content(reference) or reference
    common = sum((Counter(a) & Counter(r)).values())
    if not common:
        return 0.0, 0.0, 0.0
    p, rc = common / len(a), common / len(r)
    return p, rc, 2 * p * rc / (p + rc)


def grade_answer(answer: str, reference: str, *, overlap_threshold: float = 0.5) -> GradeResult:
    """Rule-based SimpleQA grade of a raw model reply. Order matters: content first, so a
    hedged reply that still gives the reference is CORRECT; then refusals; then mismatches."""
    ans, ref = answer_tokens(answer), answer_tokens(reference)
    if not answer.strip() or (ref and not ans):
        return GradeResult("NOT_ATTEMPTED", "empty", 0.0)
    if not ref:  # a reference that is all punctuation/articles: compare literally
        same = answer.strip().casefold() == reference.strip().casefold()
        return GradeResult("CORRECT" if same else "INCORRECT", "exact", float(same))
    texts = _sentences(answer)
    sentences = [answer_tokens(s) for s in texts]
    if corrected(texts, ref):  # "Paris. No wait, Lyon.": taken back is not answered
        return GradeResult("INCORRECT", "negation", 0.0)
    if ans == ref or sentences[0] == ref:
        return GradeResult("CORRECT", "exact", 1.0)
    hedge = hedged(sentences, ref)
    hedge = listed(texts, ref, reference) if hedge is None else hedge

    def correct(method: GradeMethod, score: float) -> GradeResult:
        # Listing candidates is not answering, even when one of them is right.
        if hedge is not None:
            return GradeResult("INCORRECT", "candidates", hedge)
        return GradeResult("CORRECT", method, score)

    if _denied(ans, ref):
        return GradeResult("INCORRECT", "negation", 0.0)
    if _contains(ans, ref):
        return correct("contains", 1.0)
    number, stated = _reference_number(ref), _numbers(ans)
    if number is not None and number in stated:
        return correct("number", 1.0)
    if is_refusal(answer):
        return GradeResult("NOT_ATTEMPTED", "refusal", 0.0)
    if number is not None and stated:
        return GradeResult("INCORRECT", "number", 0.0)
    # Recall alone would pass "Pierre Curie" for "Marie Curie"; precision must beat the
    # threshold too, so a partial name ("Curie") passes but a substituted one does not.
    p, r, f1 = max((_overlap(s, ref) for s in [*sentences, ans]), key=lambda x: x[2])
    if r >= overlap_threshold and p > overlap_threshold:
        return correct("overlap", f1)
    return GradeResult("INCORRECT", "overlap", f1)


_OPTIONS = "CORRECT, INCORRECT or NOT_ATTEMPTED"
_JUDGE_SYSTEM = (
    f"You grade answers to factual questions. Reply with exactly one of {_OPTIONS}.\n"
    "CORRECT: the predicted answer contains the reference answer's key information and does"
    " not contradict it. Hedging is fine if the reference answer is given.\n"
    "INCORRECT: it contradicts the reference answer, or offers several candidates.\n"
    "NOT_ATTEMPTED: it declines or gives no answer, and does not contradict the reference.\n"
    "Ignore capitalisation, punctuation and extra details that do not contradict."
)
_LABEL = r"\b(not[\s_-]*attempted|not\s+correct|incorrect|correct)\b"
_GRADE_LABEL = re.compile(r"\bgrade\b\W*" + _LABEL, re.IGNORECASE)
_ANY_LABEL = re.compile(_LABEL, re.IGNORECASE)


def judge_messages(
    question: str, reference: str, answer: str, article: str = ""
) -> list[ChatMessage]:
    parts = [f"Question: {question}", f"Reference answer: {reference}"]
    if article.strip():
        parts.append(f"Article (background; the reference answer decides):\n{article.strip()}")
    parts += [f"Predicted answer: {answer}", f"Grade ({_OPTIONS}):"]
    return [ChatMessage("system", _JUDGE_SYSTEM), ChatMessage("user", "\n\n".join(parts))]


def parse_judge_reply(text: str) -> Grade | None:
    """The label in a judge's reply: after "Grade:" if there, else the first one."""
    text = re.sub(re.escape(_OPTIONS), " ", text, flags=re.IGNORECASE)  # an echoed prompt
    m = _GRADE_LABEL.search(text) or _ANY_LABEL.search(text)
    if m is None:
        return None
    label = m.group(1).casefold()
    if label.startswith("not") and label.endswith("attempted"):
        return "NOT_ATTEMPTED"
    # "\b" keeps "incorrect" from matching as "correct"; "not correct" means incorrect.
    return "CORRECT" if label == "correct" else "INCORRECT"


def judged(grade: Grade) -> GradeResult:
    return GradeResult(grade, "judge", 1.0 if grade == "CORRECT" else 0.0)

"""Grade a model's reply against a reference answer with SimpleQA's labels.

Cheap rules first (each names its `method`, so the user sees why); `judge_messages` and
`parse_judge_reply` let a model grade what the rules can't.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from desktop.core.generation import ChatMessage

Grade = Literal["CORRECT", "INCORRECT", "NOT_ATTEMPTED"]
GradeMethod = Literal["exact", "contains", "overlap", "number", "refusal", "empty", "judge"]


@dataclass(frozen=True)
class GradeResult:
    grade: Grade
    method: GradeMethod  # how the grade was decided, shown to the user
    score: float  # 0..1 similarity used (1.0 for exact), for display


# fmt: off
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
_UNIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
               "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
               "seventeen", "eighteen", "nineteen")
_TEN_NAMES = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# Framing words that say nothing about the answer; left out of the overlap score.
_STOP = {"i", "im", "it", "its", "is", "was", "were", "be", "been", "are", "am", "do", "does",
         "did", "think", "believe", "guess", "answer", "of", "in", "on", "at", "by", "for", "to",
         "and", "that", "this", "which", "who", "he", "she", "they", "his", "her", "their", "my",
         "me", "as", "with", "from", "called", "named", "known", "so", "would", "say",
         "probably", "maybe", "perhaps", "likely", "sure", "not", "but", "dont", "know", "mr",
         "mrs", "ms", "dr", "sir", "either"}
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "jr", "sr", "vs", "etc", "mt", "ft", "approx"}
# fmt: on
_MONTHS = {name: i + 1 for i, name in enumerate(_MONTH_NAMES)}
_MONTHS |= {name[:3]: i for name, i in _MONTHS.items()} | {"sept": 9}
_UNITS = {w: i for i, w in enumerate(_UNIT_NAMES)}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(_TEN_NAMES)}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
# "no one knows" is not the number 1
_ONE_AS_WORD = {"no", "any", "every", "some", "each", "which", "this", "that", "the"}
_ARTICLES = {"a", "an", "the"}

_APOSTROPHES = "'’ʼ‘`"
_ISO_DATE = re.compile(r"\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\b")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TOKEN = re.compile(r"(\d+)(?:st|nd|rd|th)\b|\d+(?:\.\d+)?|[^\W\d_]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DATE = re.compile(r"(\d{3,4})-\d\d(?:-\d\d)?")

_NEGATIONS = ("cannot", "cant", "can not", "couldnt", "could not", "unable to", "not able to")
_VERBS = ("answer", "provide", "determine", "say", "find", "recall", "confirm", "verify", "tell")
_REFUSALS = (
    *(f"{neg} {verb}" for neg in _NEGATIONS for verb in _VERBS),
    *("not know", "dont know", "doesnt know", "not sure", "unsure", "not certain", "no idea"),
    *("is unknown", "remains unknown", "no information", "have information", "not aware"),
    *("no one knows", "nobody knows", "not known"),
    *("have any information", "not have access", "dont have access", "dont recall", "idk"),
)
_SHORT_REFUSALS = {"unknown", "dunno", "pass", "no answer", "n", "sorry"}  # "N/A" -> "n"
# A refusal followed by one of these is a guess, graded by what it says (SimpleQA does too).
_GUESSES = (
    *("i think", "i believe", "i guess", "my guess", "best guess", "would guess", "would say"),
    *("id say", "id guess", "it might be", "it could be", "it may be", "maybe it is"),
    *("perhaps it is", "maybe it was", "perhaps it was", "might have been", "may have been"),
    *("could have been", "is probably", "was probably", "most likely", "if i had to"),
    *("not sure but", "not certain but", "dont know but", "but it is", "but it was"),
)


def _fold(text: str) -> str:
    """Casefold and strip accents ("Zürich" -> "zurich"); glue contractions ("don't" -> "dont")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"\b(?:[^\W\d_]\.){2,}", lambda m: m.group(0).replace(".", ""), text)  # D.C.
    text = re.sub(f"\\b(it|that|what|there|he|she|who)[{_APOSTROPHES}]s\\b", r"\1 is", text)
    text = re.sub(f"[{_APOSTROPHES}]s\\b", "", text)  # possessive: "Curie's" is "Curie"
    return re.sub(f"[{_APOSTROPHES}]", "", text)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")  # "1000.0" -> "1000", "07" -> "7", "3.50" -> "3.5"


def _number_run(tokens: list[str], i: int) -> tuple[Decimal, int]:
    """Parse spelled-out numbers starting at tokens[i] ("twenty one", "1.5 million")."""
    total = current = Decimal(0)
    kind, j = "", i  # kind of the last word taken: "" (none), unit, teen, tens, scale, digits
    while j < len(tokens):
        t, nxt = tokens[j], tokens[j + 1] if j + 1 < len(tokens) else ""
        if not kind and _NUMBER.fullmatch(t) and nxt in _SCALES:
            current, kind = Decimal(t), "digits"
        elif t in _UNITS and _UNITS[t] < 10 and kind in ("", "tens", "scale"):
            if t == "one" and not kind and i > 0 and tokens[i - 1] in _ONE_AS_WORD:
                break
            current, kind = current + _UNITS[t], "unit"
        elif (t in _UNITS or t in _TENS) and kind in ("", "scale"):
            current, kind = current + _UNITS.get(t, _TENS.get(t, 0)), "tens"
        elif t == "hundred" and kind != "scale":
            current, kind = max(current, Decimal(1)) * 100, "scale"
        elif t in _SCALES and t != "hundred":
            total += max(current, Decimal(1)) * _SCALES[t]
            current, kind = Decimal(0), "scale"
        else:
            break
        j += 1
    return total + current, j


def _is_day(t: str) -> bool:
    return t.isdigit() and len(t) <= 2 and 1 <= int(t) <= 31


def _date_at(tokens: list[str], i: int) -> tuple[str, int]:
    """A date starting at tokens[i] in any common order, as ("1776-07-04", tokens used)."""
    t = [*tokens[i : i + 4], "", "", "", ""]
    day = month = used = 0
    if _is_day(t[0]):
        k = 2 if t[1] == "of" else 1  # "4th of July"
        if t[k] in _MONTHS:
            day, month, used = int(t[0]), _MONTHS[t[k]], k + 1
    elif t[0] in _MONTHS:
        month, used = _MONTHS[t[0]], 1
        if _is_day(t[1]):
            day, used = int(t[1]), 2
    if not used:
        return "", 0
    if t[used].isdigit() and len(t[used]) in (3, 4):
        year = int(t[used])
        return (f"{year:04d}-{month:02d}-{day:02d}" if day else f"{year:04d}-{month:02d}"), used + 1
    # A lone month word stays a word ("may", "march"); day + month only is "07-04".
    return (f"{month:02d}-{day:02d}", used) if day else ("", 0)


def _iso_to_words(m: re.Match[str]) -> str:
    month, day = int(m.group(3)), int(m.group(4))
    if 1 <= month <= 12 and 1 <= day <= 31:
        return f" {day} {_MONTH_NAMES[month - 1]} {m.group(1)} "
    return m.group(0)


def answer_tokens(text: str) -> list[str]:
    """Normalised tokens: no accents, case, punctuation or articles; numbers as digits; dates
    canonical ("July 4, 1776", "4 July 1776" and "1776-07-04" all give "1776-07-04")."""
    text = _THOUSANDS.sub("", _ISO_DATE.sub(_iso_to_words, _fold(text)))
    raw = [m.group(1) or m.group(0) for m in _TOKEN.finditer(text)]  # "4th" -> "4"
    raw = [_fmt(Decimal(t)) if t[0].isdigit() else t for t in raw]
    words: list[str] = []
    i = 0
    while i < len(raw):
        value, j = _number_run(raw, i)
        words.append(_fmt(value) if j > i else raw[i])
        i = max(j, i + 1)
    words = [w for w in words if w not in _ARTICLES]
    out: list[str] = []
    i = 0
    while i < len(words):
        date, used = _date_at(words, i)
        out.append(date if used else words[i])
        i += used or 1
    return out


def normalize_answer(text: str) -> str:
    return " ".join(answer_tokens(text))


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


def _content(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in _STOP]


def _token_matches(answer: str, reference: str) -> bool:
    # A fuller date answers a month/year reference: "1969-07-20" for "1969-07".
    return answer == reference or (
        bool(_DATE.fullmatch(reference)) and answer.startswith(reference + "-")
    )


def _contains(answer: list[str], reference: list[str]) -> bool:
    n = len(reference)
    return any(
        all(_token_matches(answer[i + k], reference[k]) for k in range(n))
        for i in range(len(answer) - n + 1)
    )


def _numbers(tokens: list[str]) -> set[str]:
    """Numbers stated, counting the year of a date ("July 4, 1776" states 1776)."""
    found = {t for t in tokens if _NUMBER.fullmatch(t)}
    return found | {str(int(m.group(1))) for t in tokens if (m := _DATE.fullmatch(t))}


def _reference_number(reference: list[str]) -> str | None:
    # "1,000" or "330 metres"; not "Apollo 11" or "Boeing 747", where the number is a name.
    first, rest = reference[0], reference[1:]
    return first if _NUMBER.fullmatch(first) and len(rest) <= 2 and not _numbers(rest) else None


def _overlap(answer: list[str], reference: list[str]) -> tuple[float, float, float]:
    """SQuAD-style (precision, recall, F1) over content words."""
    a, r = _content(answer) or answer, _content(reference) or reference
    common = sum((Counter(a) & Counter(r)).values())
    if not common:
        return 0.0, 0.0, 0.0
    p, rc = common / len(a), common / len(r)
    return p, rc, 2 * p * rc / (p + rc)


def _hedge(sentences: list[list[str]], reference: list[str]) -> float | None:
    """1/candidates if a sentence naming the answer offers alternatives ("Paris or London")."""
    if "or" in reference:
        return None
    ref = set(reference)
    for tokens in sentences:
        parts = f" {' '.join(tokens)} ".split(" or ")
        sets = [set(c) for p in parts if (c := _content(p.split()))]
        if len(sets) < 2 or not any(s & ref for s in sets):
            continue
        best = max(sets, key=lambda s: len(s & ref))
        if any(s - ref for s in sets if s is not best):
            return 1 / len(sets)
    return None


def grade_answer(answer: str, reference: str, *, overlap_threshold: float = 0.5) -> GradeResult:
    """Rule-based SimpleQA grade of a raw model reply. Order matters: content first, so a
    hedged reply that still gives the reference is CORRECT; then refusals; then mismatches."""
    ans, ref = answer_tokens(answer), answer_tokens(reference)
    if not answer.strip() or (ref and not ans):
        return GradeResult("NOT_ATTEMPTED", "empty", 0.0)
    if not ref:  # a reference that is all punctuation/articles: compare literally
        same = answer.strip().casefold() == reference.strip().casefold()
        return GradeResult("CORRECT" if same else "INCORRECT", "exact", float(same))
    sentences = [answer_tokens(s) for s in _sentences(answer)]
    if ans == ref or sentences[0] == ref:
        return GradeResult("CORRECT", "exact", 1.0)
    hedge = _hedge(sentences, ref)

    def correct(method: GradeMethod, score: float) -> GradeResult:
        # Listing candidates is not answering, even when one of them is right.
        if hedge is not None:
            return GradeResult("INCORRECT", method, hedge)
        return GradeResult("CORRECT", method, score)

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

"""Answer normalisation: the words of an answer, reduced so equal answers compare equal.

Accents, case, punctuation, articles and possessives go; spelled-out numbers become digits
("twenty one" -> "21", "1.5 million" -> "1500000"); dates in any common order become one
canonical token ("1776-07-04"). Grading compares these tokens; excerpt picking uses them too.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

# fmt: off
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
_UNIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
               "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
               "seventeen", "eighteen", "nineteen")
_TEN_NAMES = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
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

# The tokens `answer_tokens` writes for numbers ("1500000", "3.5") and dates ("1776-07-04",
# "1969-07"); grading looks for them to compare figures rather than words.
NUMBER_TOKEN = re.compile(r"\d+(?:\.\d+)?")
DATE_TOKEN = re.compile(r"(\d{3,4})-\d\d(?:-\d\d)?")
DAY_MONTH_TOKEN = re.compile(r"\d\d-\d\d")  # "4 July" without a year: "07-04"
# 16/07/1969 or 07/16/1969: read only where the order is plain (a number over 12 is the
# day); 04/07/1776 is 4 July in most of the world and 7 April in the US, so it stays.
_SLASH_DATE = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{4})\b")


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
        if not kind and NUMBER_TOKEN.fullmatch(t) and nxt in _SCALES:
            current, kind = Decimal(t), "digits"
        elif t in _UNITS and _UNITS[t] < 10 and kind in ("", "tens", "scale"):
            if t == "one" and not kind and i > 0 and tokens[i - 1] in _ONE_AS_WORD:
                break
            current, kind = current + _UNITS[t], "unit"
        elif (t in _UNITS or t in _TENS) and kind in ("", "scale"):
            current, kind = current + _UNITS.get(t, _TENS.get(t, 0)), "tens"
        elif t == "and" and kind == "scale" and (nxt in _UNITS or nxt in _TENS):
            pass  # "six hundred and fifty": British English joins with "and"
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


def _slash_to_words(m: re.Match[str]) -> str:
    first, second = int(m.group(1)), int(m.group(3))
    if first > 12 >= second >= 1 and first <= 31:
        day, month = first, second
    elif second > 12 >= first >= 1 and second <= 31:
        day, month = second, first
    else:
        return m.group(0)
    return f" {day} {_MONTH_NAMES[month - 1]} {m.group(4)} "


def _iso_to_words(m: re.Match[str]) -> str:
    month, day = int(m.group(3)), int(m.group(4))
    if 1 <= month <= 12 and 1 <= day <= 31:
        return f" {day} {_MONTH_NAMES[month - 1]} {m.group(1)} "
    return m.group(0)


def answer_tokens(text: str) -> list[str]:
    """Normalised tokens: no accents, case, punctuation or articles; numbers as digits; dates
    canonical ("July 4, 1776", "4 July 1776" and "1776-07-04" all give "1776-07-04")."""
    text = _SLASH_DATE.sub(_slash_to_words, _ISO_DATE.sub(_iso_to_words, _fold(text)))
    text = _THOUSANDS.sub("", text)
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

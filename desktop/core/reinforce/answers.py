"""Reading a model's answer leniently: the answer line, and the number or numbers in it.

A verifier should judge what the model said, not how it spelled it: "Answer: 3",
"the answer is three.", "3 r's", "3\\n(I counted twice)" are all 3. The answer is taken
from the last line that names itself an answer ("Answer: …", "the answer is …"), else
from the last line with anything in it; numbers may be digits (with thousands commas and
a sign) or English words up to the thousands ("twenty-one", "one hundred and five").
"""

from __future__ import annotations

import re

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORD_VALUES = {word: n for n, word in enumerate(_UNITS)} | {
    word: 10 * (n + 2) for n, word in enumerate(_TENS)
}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORD = "|".join([*WORD_VALUES, *_SCALES, "and", "no", "none"])
_TOKEN = re.compile(
    rf"(?P<digits>[-−]?\d{{1,3}}(?:,\d{{3}})+(?!\d)|[-−]?\d+)"
    rf"|(?P<words>\b(?:{_NUMBER_WORD})\b(?:[\s-]+\b(?:{_NUMBER_WORD})\b)*)",
    re.IGNORECASE,
)
_ANSWER_LINE = re.compile(r"\banswer\b\s*(?:is|was|:|=|-)?\s*(?P<rest>.*)", re.IGNORECASE)


def answer_text(completion: str) -> str:
    """The part of `completion` that states the answer (see the module's docstring)."""
    lines = [line.strip() for line in completion.splitlines() if line.strip()]
    for line in reversed(lines):
        match = _ANSWER_LINE.search(line)
        if match and match.group("rest").strip():
            return match.group("rest").strip()
    return lines[-1] if lines else ""


def numbers_in(text: str) -> list[int]:
    """Every number in `text`, in order: digits or words ("three", "twenty-one")."""
    out: list[int] = []
    for match in _TOKEN.finditer(text):
        if match.group("digits") is not None:
            out.append(int(match.group("digits").replace(",", "").replace("−", "-")))
        else:
            value = words_value(match.group("words"))
            if value is not None:
                out.extend(value)
    return out


def first_number(text: str) -> int | None:
    found = numbers_in(text)
    return found[0] if found else None


def words_value(text: str) -> list[int] | None:
    """English number words to numbers: "twenty-one" is [21], "one hundred and five" is
    [105], "two three" is [2, 3] (two numbers), "no"/"none" is [0]; None when there is no
    number ("and" alone)."""
    reader = _WordNumbers()
    for word in re.split(r"[\s-]+", text.lower()):
        reader.read(word)
    reader.flush()
    return reader.values or None


class _WordNumbers:
    """Reads number words one at a time; a word that cannot continue the number being
    read ("two" after "three") starts the next one."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self.total = 0  # the thousands read so far
        self.current = 0  # the part below a thousand
        self.last: str | None = None  # unit, teen, tens, hundred, thousand; None: no number

    def flush(self) -> None:
        if self.last is not None:
            self.values.append(self.total + self.current)
        self.total, self.current, self.last = 0, 0, None

    def read(self, word: str) -> None:
        if word in ("no", "none"):
            self.flush()
            self.values.append(0)
        elif word == "hundred":
            if self.last not in ("unit", "teen", "tens") or self.current >= 100:
                self.flush()
                self.current = 1
            self.current, self.last = (self.current or 1) * 100, "hundred"
        elif word == "thousand":
            if self.last is None or self.total:
                self.flush()
                self.current = 1
            self.total, self.current, self.last = (self.current or 1) * 1000, 0, "thousand"
        elif word in WORD_VALUES:
            value = WORD_VALUES[word]
            kind = "unit" if value < 10 else "teen" if value < 20 else "tens"
            after_scale = self.last in ("hundred", "thousand") and self.current % 100 == 0
            continues = (self.last == "tens" and kind == "unit") or after_scale
            if self.last is not None and not continues:
                self.flush()
            self.current += value
            self.last = kind

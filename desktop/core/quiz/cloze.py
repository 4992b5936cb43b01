"""Question/answer pairs made by rules, so the quiz works with any model (even a tiny one).

Each chosen sentence loses one span - a date, a number or a multi-word name - which
becomes the answer. How it is asked (a wh-question where a safe rewrite exists, else a
fill-in-the-blank; and the continuation stem a base model is given) is
`cloze_questions`' part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop.core.quiz.cloze_questions import (
    BLANK,
    DAY_MONTH,
    FULL_DATE,
    MONTHS,
    SpanKind,
    continuation_stem,
    phrase_question,
)
from desktop.core.quiz.qa import QAPair

__all__ = ["BLANK", "ClozeItem", "SpanKind", "cloze_items", "cloze_pairs", "split_sentences"]
MIN_WORDS, MAX_WORDS, MAX_CHARS = 6, 45, 320
# Dates are preferred (the easiest answers to grade), then numbers, then names; taken in
# rounds, because twelve "in what year" questions would test one kind of knowledge only.
_SHARE: dict[SpanKind, int] = {"date": 2, "number": 1, "name": 1}
_Span = tuple[SpanKind, int, int]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A full stop after these is not the end of a sentence.
_ABBREVIATIONS = _words(
    "dr mr mrs ms prof st mt ft jr sr gen col capt lt sgt rev hon gov sen rep fr vs etc "
    "approx est ca cf al fig vol ed eds inc ltd co corp dept univ ave rd no nos "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
# A four-digit number followed by one of these is a quantity, not a year.
_UNITS = _words(
    "metres meters metre meter m km kilometres kilometers miles feet ft cm centimetres mm "
    "kg kilograms grams g tonnes tons pounds lb litres liters hours minutes seconds days "
    "years degrees percent square people inhabitants residents visitors students workers "
    "steps species"
)
_SCALES = "thousand|million|billion|trillion"
_START_WORDS = _words("the a an in on at by for from with during after before since when while")
_NUMBER_LEADS = _words("about around roughly approximately some over under nearly almost only")
_CONNECTORS = _words("of for de du des la le von van der den da di del the")

_MONTH_YEAR = re.compile(rf"\b(?:{MONTHS}) \d{{4}}\b")
_YEAR = re.compile(r"(?<![\d,.$£€])\b(1\d{3}|20\d{2})(s?)\b(?![,.]\d)")
_NUMBER = re.compile(
    rf"(?<![\w.,$£€])[$£€]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?![\w.,]\d|[A-Za-z])"
    rf"(?:%| per cent| (?:{_SCALES})\b)?"
)
_THE = re.compile(r"^(?:the|a|an)\s+", re.I)
_WORD = re.compile(r"\w[\w'’\-]*")


@dataclass(frozen=True)
class ClozeItem:
    """A pair and where its answer came from: sentence[start:end] == pair.answer."""

    pair: QAPair
    sentence: str
    start: int
    end: int
    kind: SpanKind


def cloze_pairs(text: str, limit: int = 12, *, topic: str | None = None) -> list[QAPair]:
    return [item.pair for item in cloze_items(text, limit, topic=topic)]


def cloze_items(text: str, limit: int = 12, *, topic: str | None = None) -> list[ClozeItem]:
    """Up to `limit` items in source order; dates are taken first, then numbers, then names.

    `topic` (say the article's title) prefixes each question, since "It was finished in
    what year?" cannot be answered closed-book without knowing what "it" is.
    """
    if limit <= 0:
        return []
    candidates = [(s, _spans(s)) for s in split_sentences(text) if _usable(s)]
    queues = {
        kind: [i for i, (_, spans) in enumerate(candidates) if any(k == kind for k, _, _ in spans)]
        for kind in _SHARE
    }
    chosen: dict[int, ClozeItem] = {}
    # An answer that is the topic itself would be given away by the question's prefix.
    used = {topic.strip().casefold(), _THE.sub("", topic.strip()).casefold()} if topic else set()
    progress = True
    while progress and len(chosen) < limit:
        progress = False
        for kind, share in _SHARE.items():  # rounds of two dates, one number, one name
            taken = 0
            while queues[kind] and taken < share and len(chosen) < limit:
                index = queues[kind].pop(0)
                if index not in chosen and (item := _pick(*candidates[index], kind, used, topic)):
                    chosen[index] = item
                    taken += 1
                    progress = True
    return [chosen[i] for i in sorted(chosen)]


def _pick(
    sentence: str, spans: list[_Span], kind: SpanKind, used: set[str], topic: str | None
) -> ClozeItem | None:
    for span_kind, start, end in spans:
        answer = sentence[start:end]
        rest = f"{sentence[:start]} {BLANK} {sentence[end:]}"
        given_away = re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", rest, re.I)
        if span_kind == kind and answer.casefold() not in used and not given_away:
            used.add(answer.casefold())
            question = phrase_question(sentence, start, end, kind, topic)
            stem = continuation_stem(sentence, start, topic)
            pair = QAPair(question=question, answer=answer, source="rules", stem=stem)
            return ClozeItem(pair, sentence, start, end, kind)
    return None


def split_sentences(text: str) -> list[str]:
    """Sentences in order; a blank line always ends one, a single newline is a space."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = re.sub(r"\s+", " ", paragraph).strip()
        start = 0
        for match in re.finditer(r"[.!?]+[\"'”’)\]]*(?= +[\"'“‘(\[]?[A-Z0-9À-Þ])", paragraph):
            if match.group().startswith(".") and _is_abbreviation(paragraph, match.start()):
                continue
            if _inside_quote(paragraph[start : match.end()]):
                continue  # 'He said: "Base here. The Eagle has landed."' is one sentence
            sentences.append(paragraph[start : match.end()].strip())
            start = match.end()
        if paragraph[start:].strip():
            sentences.append(paragraph[start:].strip())
    return sentences


def _inside_quote(piece: str) -> bool:
    return piece.count('"') % 2 == 1 or piece.count("“") > piece.count("”")


def _is_abbreviation(paragraph: str, dot: int) -> bool:
    word = re.search(r"[\w.]*$", paragraph[:dot])
    token = word.group() if word else ""
    if not token:
        return False
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", token):  # U.S., e.g., a.m.
        return True
    if len(token) == 1 and token.isupper():  # an initial: John F. Kennedy
        return True
    return token.casefold() in _ABBREVIATIONS


def _usable(sentence: str) -> bool:
    words = len(sentence.split())
    return MIN_WORDS <= words <= MAX_WORDS and len(sentence) <= MAX_CHARS


def _spans(sentence: str) -> list[_Span]:
    """Every candidate answer in the sentence, in order, without overlaps."""
    spans: list[_Span] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for _, s, e in spans)

    for pattern in (FULL_DATE, _MONTH_YEAR, DAY_MONTH):
        spans += [("date", *m.span()) for m in pattern.finditer(sentence) if free(*m.span())]
    for m in _YEAR.finditer(sentence):
        following = sentence[m.end() :].split(maxsplit=1)
        unit = following[0].strip(".,;:").casefold() if following else ""
        if unit not in _UNITS and not sentence.startswith("%", m.end()) and free(*m.span()):
            spans.append(("date", m.start(), m.end()))
    for m in _NUMBER.finditer(sentence):
        before = sentence[: m.start()].split()
        # "Apollo 11": a number right after a capitalised word is part of a name, unless
        # that word merely opens the sentence ("About 300 workers ...").
        part_of_name = bool(before) and before[-1][:1].isupper()
        if part_of_name and len(before) == 1:
            part_of_name = before[0].casefold() not in _START_WORDS | _NUMBER_LEADS
        if not part_of_name and free(*m.span()):
            spans.append(("number", m.start(), m.end()))
    spans += [("name", s, e) for s, e in _names(sentence) if free(s, e)]
    return sorted(spans, key=lambda span: span[1])


def _names(sentence: str) -> list[tuple[int, int]]:
    """Runs of two or more capitalised words (with "of", "de" ... inside) past the start."""
    words = list(_WORD.finditer(sentence))
    runs: list[list[re.Match[str]]] = []
    run: list[re.Match[str]] = []
    for word in words:
        capital = word.group()[0].isupper()
        joined = bool(run) and sentence[run[-1].end() : word.start()] == " "
        if (capital and (joined or not run)) or (joined and word.group() in _CONNECTORS):
            run.append(word)
        else:
            runs.append(run)
            run = [word] if capital else []
    runs.append(run)
    names: list[tuple[int, int]] = []
    first = _WORD.search(sentence)
    for run in runs:
        while run and run[-1].group() in _CONNECTORS:
            run = run[:-1]
        if run and first and run[0].start() == first.start():
            if run[0].group().casefold() not in _START_WORDS:
                continue  # a capital at the start proves nothing: skip the whole run
            run = run[1:]
        capitals = [w for w in run if w.group()[0].isupper()]
        if len(capitals) >= 2 and not re.fullmatch(MONTHS, capitals[0].group()):
            end = run[-1].end()
            if run[-1].group().endswith(("'s", "’s")):
                end -= 2  # "Henri Becquerel's discovery": the name without the 's
            names.append((run[0].start(), end))
    return names

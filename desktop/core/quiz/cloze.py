"""Question/answer pairs made by rules, so the quiz works with any model (even a tiny one).

Each chosen sentence loses one span - a date, a number or a multi-word name - which
becomes the answer. Where a safe rewrite exists the question is a wh-question ("... in
what year?", "... how many steps?"); otherwise it is a fill-in-the-blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from desktop.core.quiz.qa import QAPair

SpanKind = Literal["date", "number", "name"]
BLANK = "____"
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
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
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

_FULL_DATE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTHS}),? \d{{4}}\b"
    rf"|\b(?:{_MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?, \d{{4}}\b"
)
_MONTH_YEAR = re.compile(rf"\b(?:{_MONTHS}) \d{{4}}\b")
_DAY_MONTH = re.compile(rf"\b\d{{1,2}} (?:{_MONTHS})\b")
_YEAR = re.compile(r"(?<![\d,.$£€])\b(1\d{3}|20\d{2})(s?)\b(?![,.]\d)")
_NUMBER = re.compile(
    rf"(?<![\w.,$£€])[$£€]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?![\w.,]\d|[A-Za-z])"
    rf"(?:%| per cent| (?:{_SCALES})\b)?"
)
_THE = re.compile(r"^(?:the|a|an)\s+", re.I)
_WORD = re.compile(r"\w[\w'’\-]*")
_APPROXIMATE = re.compile(r"(?:^|(?<=\s))(?:about|around|roughly|approximately|some) $", re.I)
_APPROXIMATE_NOT = re.compile(
    r"(?:^|\s)(?:more than|less than|fewer than|up to|over|under|at least|nearly|almost) $",
    re.I,
)


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
            question = _question(sentence, start, end, kind, topic)
            pair = QAPair(question=question, answer=answer, source="rules")
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

    for pattern in (_FULL_DATE, _MONTH_YEAR, _DAY_MONTH):
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
        if len(capitals) >= 2 and not re.fullmatch(_MONTHS, capitals[0].group()):
            end = run[-1].end()
            if run[-1].group().endswith(("'s", "’s")):
                end -= 2  # "Henri Becquerel's discovery": the name without the 's
            names.append((run[0].start(), end))
    return names


def _question(sentence: str, start: int, end: int, kind: SpanKind, topic: str | None) -> str:
    about = f"About {topic.strip()}" if topic and topic.strip() else ""
    if wh := _wh_question(sentence, start, end, kind):
        return f"{about}: {wh}" if about else wh
    blanked = f'"{sentence[:start]}{BLANK}{sentence[end:]}"'
    return f"{about}, fill in the blank: {blanked}" if about else f"Fill in the blank: {blanked}"


def _wh_question(sentence: str, start: int, end: int, kind: SpanKind) -> str | None:
    """An echo question ("... in what year?") when the rewrite is safe, else None."""
    if not sentence.endswith(".") or sentence.endswith("..") or '"' in sentence[end:]:
        return None
    answer, before, after = sentence[start:end], sentence[:start], sentence[end:-1]
    if kind == "date" and re.search(r"(?:^|\s)(in|on|by|since|until)\s$", before, re.I):
        if re.fullmatch(r"\d{4}", answer):
            wh = "what year"
        elif re.fullmatch(r"\d{4}s", answer):
            wh = "what decade"
        elif _FULL_DATE.fullmatch(answer) or _DAY_MONTH.fullmatch(answer):
            wh = "what date"
        else:
            wh = "what month and year"
        fronted = re.fullmatch(r"(In|On|By|Since|Until) ", before)
        if fronted:
            # "In 1898, the couple announced X." -> "The couple announced X in what year?"
            rest = after.removeprefix(",").strip()
            if len(rest.split()) < 3:
                return None
            return f"{rest[:1].upper()}{rest[1:]} {fronted.group(1).lower()} {wh}?"
        # Mid-sentence, only where the phrase closes a clause: "so in what year she moved"
        # is not a question anyone would write.
        return f"{before}{wh}{after}?" if after[:1] in ("", ",") else None
    if kind == "number" and not answer.startswith(("$", "£", "€")):
        if re.search(_APPROXIMATE_NOT, before):
            return None  # "more than how many" reads badly, and dropping it changes the fact
        if re.match(r" [a-z]+(?: [a-z]+)?,? \d", after):
            return None  # "8 days, 3 hours": "how many days" would have a partial answer
        if answer.endswith(("%", "per cent")):
            wh = "what percentage"
        elif re.match(r" [a-z]", after):
            wh = "how many"
        else:
            return None
        before = re.sub(_APPROXIMATE, "", before)
        before = re.sub(r"(?:^|(?<=\s))(?:an?|An?) (?:estimated )?$", "", before)
        if not before.strip():
            return f"{wh[:1].upper()}{wh[1:]}{after}?"
        return f"{before}{wh}{after}?"
    return None

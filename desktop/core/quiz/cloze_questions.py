"""How a rule-made question is put to a model, from the sentence its answer was cut from.

Two forms, because two kinds of model answer differently:

* a **question** for a model that chats: a wh-question where a safe rewrite exists ("Who
  was the commander of Apollo 11?", "... in what year?", "... how many steps?"), else a
  fill-in-the-blank. A fill-in-the-blank is the last resort: a base model tends to echo
  the sentence back instead of filling it in.
* a **continuation stem** for a base model: the sentence up to the missing fact ("Apollo
  11 was launched from Kennedy Space Center in Florida on"). A base model only continues
  text, so this asks it the way it answers.
"""

from __future__ import annotations

import re
from typing import Literal

SpanKind = Literal["date", "number", "name"]
BLANK = "____"
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
FULL_DATE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:{MONTHS}),? \d{{4}}\b"
    rf"|\b(?:{MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?, \d{{4}}\b"
)
DAY_MONTH = re.compile(rf"\b\d{{1,2}} (?:{MONTHS})\b")
MIN_STEM_WORDS = 3  # "It was" continues into anything; a stem must say what it is about


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_APPROXIMATE = re.compile(r"(?:^|(?<=\s))(?:about|around|roughly|approximately|some) $", re.I)
_APPROXIMATE_NOT = re.compile(
    r"(?:^|\s)(?:more than|less than|fewer than|up to|over|under|at least|nearly|almost) $",
    re.I,
)
# Roles a person holds *in* the subject of an article (its crew, its organisation), so
# "the commander Neil Armstrong" in an article about Apollo 11 is the commander of Apollo
# 11. Professions are left out: "the French physicist Pierre Curie" in an article about
# Marie Curie is not "the physicist of Marie Curie".
_POSITIONS = _words(
    "commander pilot captain leader director founder president chairman chairwoman chief "
    "head coach manager governor mayor navigator skipper conductor"
)
_TITLE = r"(?:(?:Dr|Prof|Sir|Capt|Captain|Gen|Rev|Mr|Mrs|Ms)\.? )?"
_ROLE_BEFORE = re.compile(rf"(?:^|\s)(?:the|its) ((?:[a-z][a-z-]* ){{1,3}}){_TITLE}$")
_BY_BEFORE = re.compile(rf"\b([a-z]+) by (?:(?:the|a|an) (?:[a-z][a-z-]* ){{0,3}})?{_TITLE}$")
_IRREGULAR = _words("led built written made run won drawn held founded taught shown")
# "Its capital and largest town is Port Sorrel": what the subject's own thing is called
_ITS_IS = re.compile(r"^(?:Its|Their) ((?:[a-z][a-z-]* ){1,5})(is|was|are|were) (?:the )?$")
_THE_IS = re.compile(r"^The ((?:[a-z][a-z-]* ){1,4})(is|was) (?:the )?$")
# "In 1895 she married the French physicist Pierre Curie." in an article about a person
_PERSON_DID = re.compile(
    r"^(?:(In|On) ([^,]{3,30}?),? )?(?:she|he|She|He) (married|met) "
    r"(?:the (?:[A-Za-z][a-z-]* ){0,3})?$"
)
_PRESENT = {"married": "marry", "met": "meet"}


def phrase_question(sentence: str, start: int, end: int, kind: SpanKind, topic: str | None) -> str:
    """The question asking for sentence[start:end]."""
    about = f"About {topic.strip()}" if topic and topic.strip() else ""
    if kind == "name" and about and (direct := _name_question(sentence, start, end, topic or "")):
        return direct  # names the topic itself: no "About ..." needed
    if wh := _wh_question(sentence, start, end, kind):
        return f"{about}: {wh}" if about else wh
    blanked = f'"{sentence[:start]}{BLANK}{sentence[end:]}"'
    return f"{about}, fill in the blank: {blanked}" if about else f"Fill in the blank: {blanked}"


def continuation_stem(sentence: str, start: int, topic: str | None) -> str:
    """The text a base model continues with the answer, or "" when the answer opens the
    sentence (there is nothing to continue). A sentence opening with "It"/"Its" means the
    article's subject, so the topic is put in its place; a stem that still does not name
    the topic gets it as a title line, the way an encyclopedia page starts."""
    stem = sentence[:start].rstrip()
    name = topic.strip() if topic else ""
    role = _ROLE_BEFORE.search(stem + " ")
    if name and role and role.group(1).split()[-1] in _POSITIONS:
        # "The crew were the commander" goes on as well with "of the mission" as with a
        # name; "The commander of Apollo 11 was" can only go on with the name.
        return f"The {role.group(1).strip()} of {_mid_sentence(name)} was"
    if len(stem.split()) < MIN_STEM_WORDS:
        return ""
    if not name:
        return stem
    if re.match(r"It\s", stem):
        stem = name + stem[2:]
    elif re.match(r"Its\s", stem):
        stem = _possessive(name) + stem[3:]
    named = re.search(rf"(?<!\w){re.escape(_mid_sentence(name))}(?!\w)", stem, re.I)
    return stem if named else f"{name}\n\n{stem}"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _mid_sentence(topic: str) -> str:
    """ "The Eiffel Tower" inside a sentence is "the Eiffel Tower"."""
    return "the" + topic[3:] if topic.startswith("The ") else topic


def _clause_ends(after: str) -> bool:
    return after in ("", ".") or after.startswith((", ", "; ", "."))


def _name_question(sentence: str, start: int, end: int, topic: str) -> str | None:
    """A who/what question for a name, where the sentence says how it relates to the topic."""
    before, after = sentence[:start], sentence[end:]
    subject = _mid_sentence(topic.strip())
    role = _ROLE_BEFORE.search(before)
    if role and role.group(1).split()[-1] in _POSITIONS:
        return f"Who was the {role.group(1).strip()} of {subject}?"
    by = _BY_BEFORE.search(before)
    if by and re.match(r"It (?:was|is) ", sentence) and _participle(by.group(1)):
        return f"Who {by.group(1)} {subject}?"
    did = _PERSON_DID.match(before)
    if did and _clause_ends(after) and _looks_like_a_person(topic):
        when = f" {did.group(1).lower()} {did.group(2)}" if did.group(1) else ""
        return f"Whom did {subject} {_PRESENT[did.group(3)]}{when}?"
    own = _ITS_IS.match(before) or _THE_IS.match(before)
    if own and _clause_ends(after):
        thing, verb = own.group(1).strip(), own.group(2)
        who = "Who" if thing.split()[-1] in _POSITIONS else "What"
        return f"{who} {verb} the {thing} of {subject}?"
    return None


def _looks_like_a_person(topic: str) -> bool:
    """ "Marie Curie", not "Apollo 11", "Velmora" or "The Eiffel Tower": a "she" or "he"
    opening a sentence in an article about a person is most likely that person."""
    words = topic.split()
    return (
        2 <= len(words) <= 4
        and words[0] != "The"
        and all(w[:1].isupper() for w in words)
        and not any(c.isdigit() for c in topic)
    )


def _participle(word: str) -> bool:
    return word in _IRREGULAR or (word.endswith("ed") and len(word) > 4)


def _wh_question(sentence: str, start: int, end: int, kind: SpanKind) -> str | None:
    """An echo question ("... in what year?") when the rewrite is safe, else None."""
    if not sentence.endswith(".") or sentence.endswith("..") or '"' in sentence[end:]:
        return None
    answer, before, after = sentence[start:end], sentence[:start], sentence[end:-1]
    if kind == "name":
        # "... and was designed by the engineer Tomas Hale." -> "... designed by whom?"
        by = _BY_BEFORE.search(before)
        if by and _participle(by.group(1)) and after == "":
            return f"{before[: by.start()]}{by.group(1)} by whom?"
        return None
    if kind == "date" and re.search(r"(?:^|\s)(in|on|by|since|until)\s$", before, re.I):
        if re.fullmatch(r"\d{4}", answer):
            wh = "what year"
        elif re.fullmatch(r"\d{4}s", answer):
            wh = "what decade"
        elif FULL_DATE.fullmatch(answer) or DAY_MONTH.fullmatch(answer):
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

from __future__ import annotations

import re

import pytest

from desktop.core.quiz.articles import Article, bundled_articles
from desktop.core.quiz.cloze import BLANK, cloze_items, cloze_pairs, split_sentences
from desktop.core.quiz.cloze_questions import continuation_stem, phrase_question


@pytest.mark.parametrize("article", bundled_articles(), ids=lambda a: a.title)
def test_every_bundled_article_yields_well_formed_questions(article: Article) -> None:
    items = cloze_items(article.text)
    assert 8 <= len(items) <= 12
    sentences = split_sentences(article.text)
    positions = [sentences.index(item.sentence) for item in items]
    assert positions == sorted(positions)  # source order
    answers = [item.pair.answer.casefold() for item in items]
    assert len(set(answers)) == len(answers)
    for item in items:
        pair = item.pair
        assert pair.source == "rules"
        assert item.sentence[item.start : item.end] == pair.answer
        rest = pair.question.replace(item.sentence, "")
        assert not re.search(rf"(?<!\w){re.escape(pair.answer)}(?!\w)", rest)
        if pair.question.startswith("Fill in the blank: "):
            blanked = item.sentence[: item.start] + BLANK + item.sentence[item.end :]
            assert pair.question == f'Fill in the blank: "{blanked}"'
        else:
            assert pair.question.endswith("?") and BLANK not in pair.question
            wh = r"\b(what (year|date|decade|month and year|percentage)|how many|by whom)\b"
            assert re.search(wh, pair.question, re.I)
        # a base model continues the sentence up to the answer
        assert not pair.stem or item.sentence.startswith(pair.stem)
    assert {"date", "number"} <= {item.kind for item in items}
    topical = cloze_items(article.text, topic=article.title)
    assert sum(bool(item.pair.stem) for item in topical) >= len(topical) // 2


_PAIRS_SCRIPT = """
import json, sys
from desktop.core.quiz.articles import bundled_articles
from desktop.core.quiz.cloze import cloze_pairs
print(json.dumps([[[p.question, p.answer] for p in cloze_pairs(a.text, limit)]
                  for a in bundled_articles() for limit in (3, 12)]))
"""


def test_an_article_gives_the_same_questions_in_every_run_of_the_app() -> None:
    """Quiz runs are compared across sessions, question by question, so an article must
    give the same questions each time the app starts. Python salts str hashes per
    process: if a set's order (of kinds, spans or answers) leaked into the choice, runs
    with different salts would differ, though each run is consistent with itself."""
    import json
    import os
    import subprocess
    import sys

    def pairs_in_a_new_process(seed: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", _PAIRS_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    runs = {seed: pairs_in_a_new_process(seed) for seed in ("1", "2", "3")}
    assert len(set(runs.values())) == 1, "the questions depend on the process's hash salt"
    here = [[[p.question, p.answer] for p in cloze_pairs(a.text, limit)]
            for a in bundled_articles() for limit in (3, 12)]  # fmt: skip
    assert json.loads(runs["1"]) == here and all(here)


def test_limit_prefers_dates_then_numbers_then_names() -> None:
    text = (
        "The bridge was designed by Anna Berg and Olaf Lind of Bergen. "
        "It carries 4,500 cars on a normal working day. "
        "The bridge was opened to traffic in 1931."
    )
    kinds = [item.kind for item in cloze_items(text, limit=2)]
    assert kinds == ["number", "date"]  # source order, but the name lost its place
    assert [p.answer for p in cloze_pairs(text)] == ["Anna Berg", "4,500", "1931"]
    assert cloze_pairs(text, limit=0) == []


def test_wh_questions_for_years_dates_and_counts() -> None:
    text = (
        "In 1898, the couple announced the discovery of two new elements.\n\n"
        "Work on the foundations began on 28 January 1887.\n\n"
        "Visitors can climb 674 steps to reach the second floor.\n\n"
        "An estimated 650 million people watched the first steps on television."
    )
    assert [(p.question, p.answer) for p in cloze_pairs(text)] == [
        ("The couple announced the discovery of two new elements in what year?", "1898"),
        ("Work on the foundations began on what date?", "28 January 1887"),
        ("Visitors can climb how many steps to reach the second floor?", "674"),
        ("How many people watched the first steps on television?", "650 million"),
    ]


def test_fill_in_the_blank_when_no_safe_rewrite_exists() -> None:
    pairs = cloze_pairs("The whole mission lasted 8 days, 3 hours and 18 minutes.")
    assert [(p.question, p.answer) for p in pairs] == [
        ('Fill in the blank: "The whole mission lasted ____ days, 3 hours and 18 minutes."', "8")
    ]
    pairs = cloze_pairs("The first sketch came from his engineer Maurice Koechlin in Paris.")
    assert [(p.question, p.answer) for p in pairs] == [
        (
            'Fill in the blank: "The first sketch came from his engineer ____ in Paris."',
            "Maurice Koechlin",
        )
    ]


def test_topic_prefixes_questions_and_is_never_the_answer() -> None:
    text = "The Eiffel Tower stands in Paris beside the river. The tower was completed in 1889."
    pairs = cloze_pairs(text, topic="The Eiffel Tower")
    assert [(p.question, p.answer) for p in pairs] == [
        ("About The Eiffel Tower: The tower was completed in what year?", "1889")
    ]
    blank = cloze_pairs("The tower was painted by Jean Dupont last spring.", topic="Towers")
    assert blank[0].question.startswith('About Towers, fill in the blank: "The tower was')


def test_names_skip_the_sentence_start_and_keep_inner_connectors() -> None:
    pairs = cloze_pairs(
        "Marie Curie moved to the city to study. "
        "She later studied at the University of Paris with others. "
        "They read Henri Becquerel's report on uranium rays."
    )
    assert [p.answer for p in pairs] == ["University of Paris", "Henri Becquerel"]


def test_names_and_numbers_are_not_confused() -> None:
    pairs = cloze_pairs("The Apollo 11 crew returned home safely after the long trip.")
    assert pairs == []  # "11" belongs to a name; "Apollo" alone is not a multi-word name
    quantity = cloze_pairs("The old lighthouse tower rises 1200 metres above the sea.")
    assert [(p.question, p.answer) for p in quantity] == [
        ("The old lighthouse tower rises how many metres above the sea?", "1200")
    ]


def test_an_answer_repeated_in_its_sentence_is_not_asked() -> None:
    text = "The fair of 1889 opened in May, and the tower was ready in 1889."
    assert cloze_pairs(text) == []


def test_sentence_splitting_respects_abbreviations_decimals_and_quotes() -> None:
    text = (
        "Dr. Teodora Lindqvist met Prof. Quist at St. Brendan's Harbour. "
        "The water was 1.8 degrees warmer in the U.S. Navy tests. "
        "J. R. R. Tolkien wrote it in 1937! Did it sell? "
        'He said: "Base here. The Eagle has landed." Then silence fell.\n'
        "A soft-wrapped line\ncontinues here.\n\nNew paragraph without a stop\n\nLast."
    )
    assert split_sentences(text) == [
        "Dr. Teodora Lindqvist met Prof. Quist at St. Brendan's Harbour.",
        "The water was 1.8 degrees warmer in the U.S. Navy tests.",
        "J. R. R. Tolkien wrote it in 1937!",
        "Did it sell?",
        'He said: "Base here. The Eagle has landed."',
        "Then silence fell.",
        "A soft-wrapped line continues here.",
        "New paragraph without a stop",
        "Last.",
    ]


def test_short_and_overlong_sentences_are_skipped() -> None:
    assert cloze_pairs("Built in 1889.") == []
    long = "In 1889 the tower " + "was very tall and " * 20 + "stood there."
    assert cloze_pairs(long) == []


def test_decimals_percentages_and_decades() -> None:
    pairs = cloze_pairs(
        "The ferry from the port takes 5.5 hours in calm weather.\n\n"
        "About 45% of the islanders work in the busy fishing trade.\n\n"
        "Tourism grew quickly in the 1990s and never stopped growing."
    )
    assert [(p.question, p.answer) for p in pairs] == [
        ("The ferry from the port takes how many hours in calm weather?", "5.5"),
        ("What percentage of the islanders work in the busy fishing trade?", "45%"),
        (
            'Fill in the blank: "Tourism grew quickly in the ____ and never stopped growing."',
            "1990s",
        ),
    ]


# Sentences of the bundled articles (and a few more), the name asked for, the topic, and the
# question a reader would write.
@pytest.mark.parametrize(
    ("sentence", "answer", "topic", "question"),
    [
        ("The crew were the commander Neil Armstrong, the command module pilot Michael "
         "Collins and the lunar module pilot Edwin Aldrin.", "Neil Armstrong", "Apollo 11",
         "Who was the commander of Apollo 11?"),
        ("The crew were the commander Neil Armstrong, the command module pilot Michael "
         "Collins and the lunar module pilot Edwin Aldrin.", "Michael Collins", "Apollo 11",
         "Who was the command module pilot of Apollo 11?"),
        ("It was organised by the Tessel Institute for Ocean Research and led by the marine "
         "biologist Dr. Teodora Lindqvist.", "Tessel Institute for Ocean Research",
         "The Halvard Deep Expedition", "Who organised the Halvard Deep Expedition?"),
        ("It was organised by the Tessel Institute for Ocean Research and led by the marine "
         "biologist Dr. Teodora Lindqvist.", "Teodora Lindqvist",
         "The Halvard Deep Expedition", "Who led the Halvard Deep Expedition?"),
        ("Its capital and largest town is Port Sorrel, on the sheltered eastern shore.",
         "Port Sorrel", "Velmora", "What is the capital and largest town of Velmora?"),
        ("The highest point is Mount Carrow, which rises to 1,047 metres.", "Mount Carrow",
         "Velmora", "What is the highest point of Velmora?"),
        ("In 1895 she married the French physicist Pierre Curie.", "Pierre Curie",
         "Marie Curie", "Whom did Marie Curie marry in 1895?"),
        ("The lighthouse is 42 metres tall and was designed by the engineer Tomas Hale.",
         "Tomas Hale", "Velmora",
         "About Velmora: The lighthouse is 42 metres tall and was designed by whom?"),
        # no safe rewrite: a profession is no position in the topic, "she" in an article
        # about a place is not the place, and a quoted name stays a quote
        ("The company of the engineer Gustave Eiffel designed and built it.",
         "Gustave Eiffel", "The Eiffel Tower",
         'About The Eiffel Tower, fill in the blank: "The company of the engineer ____ '
         'designed and built it."'),
        ("In 1895 she married the French physicist Pierre Curie.", "Pierre Curie",
         "Velmora",
         'About Velmora, fill in the blank: "In 1895 she married the French physicist ____."'),
    ],
)  # fmt: skip
def test_wh_questions_for_names(sentence: str, answer: str, topic: str, question: str) -> None:
    start = sentence.index(answer)
    assert phrase_question(sentence, start, start + len(answer), "name", topic) == question


@pytest.mark.parametrize(
    ("sentence", "answer", "topic", "stem"),
    [
        # the sentence up to the fact; "It" is the article's subject
        ("It was launched from Kennedy Space Center in Florida on 16 July 1969 by a Saturn V "
         "rocket.", "16 July 1969", "Apollo 11",
         "Apollo 11 was launched from Kennedy Space Center in Florida on"),
        ("Its capital and largest town is Port Sorrel, on the eastern shore.", "Port Sorrel",
         "Velmora", "Velmora's capital and largest town is"),
        ("Velmora is an island in the Orrin Sea, about 210 kilometres west of Kessarin.",
         "210", "Velmora", "Velmora is an island in the Orrin Sea, about"),
        # a sentence that does not name its subject gets it as a title line
        ("Work on the foundations began on 28 January 1887.", "28 January 1887",
         "The Eiffel Tower", "The Eiffel Tower\n\nWork on the foundations began on"),
        ("Pierre was killed in a street accident in Paris on 19 April 1906.", "19 April 1906",
         None, "Pierre was killed in a street accident in Paris on"),
        # "The crew were the commander" goes on with "of the mission" as well as a name
        ("The crew were the commander Neil Armstrong and two pilots.", "Neil Armstrong",
         "Apollo 11", "The commander of Apollo 11 was"),
        # nothing before the answer, or too little to say what is asked: no stem
        ("An estimated 650 million people watched the first steps.", "650 million",
         "Apollo 11", ""),
        ("Up to 300 workers on the site joined together the pieces.", "300", "The Eiffel Tower",
         ""),
    ],
)  # fmt: skip
def test_continuation_stems(sentence: str, answer: str, topic: str | None, stem: str) -> None:
    assert continuation_stem(sentence, sentence.index(answer), topic) == stem

from __future__ import annotations

import pytest

from desktop.core.quiz.answer_normalisation import answer_tokens, normalize_answer
from desktop.core.quiz.grading import (
    Grade,
    GradeResult,
    grade_answer,
    is_refusal,
    judge_messages,
    judged,
    parse_judge_reply,
)

OK, BAD, NA = "CORRECT", "INCORRECT", "NOT_ATTEMPTED"


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        # denials are not answers; what models say about an invented subject is a refusal
        ("Not Paris", "Paris", BAD),
        ("It is not Paris.", "Paris", BAD),
        ("Not 1889", "1889", BAD),
        ("Paris, not London", "Paris", OK),
        ("I am not familiar with Velmora.", "Osk", NA),
        ("There is no such place as Velmora.", "Osk", NA),
        ("Velmora is not a real country.", "Osk", NA),
        ("It is not possible to say.", "Osk", NA),
        ("I don't know, maybe Paris.", "Rome", BAD),
        # casing, articles, punctuation, quotes, Markdown
        ("Paris", "Paris", OK),
        ("paris", "PARIS", OK),
        ("The Eiffel Tower", "Eiffel Tower", OK),
        ("an apple", "Apple", OK),
        ('"Paris."', "Paris", OK),
        ("**Paris**", "Paris", OK),
        ("Sure! The answer is:\n\n**Paris**", "Paris", OK),
        # extra words and trailing explanations
        ("The answer is Paris.", "Paris", OK),
        ("Paris, the capital of France", "Paris", OK),
        ("The capital is Paris. It has been since 987.", "Paris", OK),
        ("London", "Paris", BAD),
        ("The capital of France is Lyon.", "Paris", BAD),
        # non-ASCII
        ("Zurich", "Zürich", OK),
        ("Zürich", "Zurich", OK),
        ("Sao Paulo", "São Paulo", OK),
        ("Washington, D.C.", "Washington DC", OK),
        # numbers
        ("1000", "1,000", OK),
        ("It is 1,000 metres long.", "1000", OK),
        ("1000.0", "1000", OK),
        ("one thousand", "1000", OK),
        ("There are eight planets.", "8", OK),
        ("Twenty-one", "21", OK),
        ("3.14", "3.14", OK),
        ("It was built in 1889.", "1889", OK),
        ("It is 330 m tall.", "330 metres", OK),
        ("It is 300 metres tall.", "330 metres", BAD),
        ("1887", "1889", BAD),
        ("14", "4", BAD),
        ("There are 14 of them.", "4", BAD),
        ("17761", "1776", BAD),
        ("3.15", "3.14", BAD),
        # dates in several orders
        ("July 4, 1776", "4 July 1776", OK),
        ("4 July 1776", "July 4, 1776", OK),
        ("1776-07-04", "July 4, 1776", OK),
        ("On the 4th of July, 1776.", "1776-07-04", OK),
        ("It happened on July 20, 1969.", "July 1969", OK),
        ("July 4, 1776", "1776", OK),
        ("July 2, 1776", "July 4, 1776", BAD),
        ("August 1776", "July 1776", BAD),
        ("4 July", "July 4", OK),
        # empty and refusals
        ("", "Paris", NA),
        ("   \n ", "Paris", NA),
        ("...", "Paris", NA),
        ("I don't know.", "Paris", NA),
        ("I'm not sure.", "1889", NA),
        ("I do not have information about that.", "Marie Curie", NA),
        ("I cannot answer that question.", "Paris", NA),
        ("Sorry, I don't know.", "Paris", NA),
        ("Unknown", "1889", NA),
        ("No idea.", "Paris", NA),
        ("I'm sorry, but I couldn't find any information on that person.", "Ada Lovelace", NA),
        # hedged but still answering: graded by content, like SimpleQA
        ("I'm not sure, but I think it's Paris.", "Paris", OK),
        ("I'm not sure, but I think it's London.", "Paris", BAD),
        ("I don't know for sure, maybe around 1,000.", "1000", OK),
        ("I don't know. Maybe it was 1850?", "1889", BAD),
        ("No one knows for sure.", "42", NA),
        # multi-word names
        ("Marie Curie", "Marie Curie", OK),
        ("Curie", "Marie Curie", OK),
        ("Marie Skłodowska Curie", "Marie Curie", OK),
        ("It was discovered by Marie Curie's team.", "Marie Curie", OK),
        ("Pierre Curie", "Marie Curie", BAD),
        ("Albert Einstein", "Marie Curie", BAD),
        ("Malia and Sasha", "Malia and Sasha Obama", OK),
        ("Apollo 13", "Apollo 11", BAD),
        # several candidates are not an answer
        ("Paris or London", "Paris", BAD),
        ("I think it's either Paris or Lyon.", "Paris", BAD),
        ("Marie Curie or Pierre Curie", "Marie Curie", BAD),
        ("4 or 5", "4", BAD),
        ("Paris. It is larger than Lyon or Marseille.", "Paris", OK),
        ("1889, 1890 and 1891", "1890", BAD),
        ("Neil Armstrong and Buzz Aldrin", "Neil Armstrong", BAD),
        ("Gustave Eiffel and his company", "Gustave Eiffel", OK),  # more, not another
        ("Paris, France", "Paris", OK),  # an apposition is no list
        # taken back is not answered; a sentence that merely starts with "No" is no taking back
        ("Paris. No wait, Lyon.", "Paris", BAD),
        ("Paris. Actually, it is Lyon.", "Paris", BAD),
        ("Paris. No other city comes close.", "Paris", OK),
    ],
)
def test_grade_table(answer: str, reference: str, expected: Grade) -> None:
    assert grade_answer(answer, reference).grade == expected


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        ("Paris", "paris", GradeResult("CORRECT", "exact", 1.0)),
        ("The answer is Paris.", "Paris", GradeResult("CORRECT", "contains", 1.0)),
        ("1887", "1889", GradeResult("INCORRECT", "number", 0.0)),
        ("July 4, 1776", "1776", GradeResult("CORRECT", "number", 1.0)),
        ("", "Paris", GradeResult("NOT_ATTEMPTED", "empty", 0.0)),
        ("I don't know.", "Paris", GradeResult("NOT_ATTEMPTED", "refusal", 0.0)),
        ("Paris or London", "Paris", GradeResult("INCORRECT", "candidates", 0.5)),
        (
            "Neil Armstrong and Buzz Aldrin",
            "Neil Armstrong",
            GradeResult("INCORRECT", "candidates", 0.5),
        ),
        ("Paris. No wait, Lyon.", "Paris", GradeResult("INCORRECT", "negation", 0.0)),
    ],
)
def test_grade_methods(answer: str, reference: str, expected: GradeResult) -> None:
    assert grade_answer(answer, reference) == expected


# Answers Gemma 3 270M (base, Q4_K_M) gave in `make eval` and in the runs issue 18 reports,
# with the reference they were graded against and the grade a reader would give.
@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        # a fill-in-the-blank echoed back, or the whole crew for its commander: not answers
        ("The commander is Armstrong, Collins and Aldrin.", "Neil Armstrong", BAD),
        ("It was launched from Kennedy Space Center in Florida on ____ by a Saturn V "
         "rocket.", "16 July 1969", BAD),
        # a continuation goes on after the fact; the fact decides
        ("Neil Armstrong, the command module pilot Michael Collins and the lunar module "
         'pilot Edwin "Buzz" Aldrin.', "Neil Armstrong", OK),
        ("16 July 1969, by a Saturn V rocket.", "16 July 1969", OK),
        ("1961: to land a man on the Moon and return him safely to Earth before the end of "
         "the decade.", "1961", OK),
        ("1893 and a second one, in mathematics, in 1902.", "1893", OK),
        ("Henri Becquerel were awarded the Nobel Prize in Physics.", "Henri Becquerel", OK),
        ("Tessel Institute for Ocean Research and was funded by the Norwegian government.",
         "Tessel Institute for Ocean Research", OK),
        ("Tallow Assembly, won self-government for the island on 14 June 1921.",
         "Tallow Assembly", OK),
        ("Port Sorrel, which is the capital of the Velmoran Council.", "Port Sorrel", OK),
        ("21 July by Coordinated Universal Time.", "21 July", OK),
        ("Pierre Curie.", "Pierre Curie", OK),
        # ... and another candidate of the same kind beside it is a list, not an answer
        ("Tessel Institute for Ocean Research and the Marine Biological Laboratory.",
         "Tessel Institute for Ocean Research", BAD),
        ("Marie Curie, Pierre Curie and Henri Becquerel", "Henri Becquerel", BAD),
        # a surname for a full name; never another person of the same family
        ("Armstrong", "Neil Armstrong", OK),
        ("Eiffel", "Gustave Eiffel", OK),
        ("and inventor, Edmond Becquerel.", "Pierre Curie", BAD),
        # dates in other formats, and near misses
        ("July 16, 1969", "16 July 1969", OK),
        ("16/07/1969", "16 July 1969", OK),
        ("07/16/1969", "16 July 1969", OK),
        ("January 27, 1867.", "7 November 1867", BAD),
        ("July 16, 1968.", "16 July 1969", BAD),
        ("1969", "20 July 1969", BAD),  # the year of a date asked for
        ("the 12th of May in 1889.", "31 March 1889", BAD),
        ("31 March 1890, when the Eiffel Tower was being built.", "31 March 1889", BAD),
        ("the 1380s, when a fishing family took up residence on the island.", "1384", BAD),
        # numbers with units, in words, with thousands separators
        ("650 million people", "650 million", OK),
        ("six hundred and fifty million", "650 million", OK),
        ("7,300 tonnes and the length is about 148 metres.", "7,300", OK),
        ("1,400 kilometres west of the Chilean coast.", "1,400", OK),
        ("1400 km", "1,400", OK),
        ("21.5 kilograms of rock", "21.5", OK),
        ("8,000 tonnes.", "7,300", BAD),
        ("607 metres above sea level.", "1,047", BAD),
        ("10 minutes after the first shot of Mars.", "19", BAD),
        # invented subjects: made-up facts are wrong, never "not attempted"
        ("state of Florida, United States.", "Orrin Sea", BAD),
        ("Norwegian Antarctic Research Institute (NARI).", "Tessel Institute for Ocean "
         "Research", BAD),
        ("45 minutes north of the city of Fort Collins.", "210", BAD),
    ],
)  # fmt: skip
def test_real_answers(answer: str, reference: str, expected: Grade) -> None:
    assert grade_answer(answer, reference).grade == expected


def test_overlap_score_is_f1_and_threshold_is_honoured() -> None:
    partial = grade_answer("Curie", "Marie Curie")
    assert (partial.grade, partial.method) == ("CORRECT", "overlap")
    assert partial.score == pytest.approx(2 / 3)  # precision 1, recall 1/2
    strict = grade_answer("Curie", "Marie Curie", overlap_threshold=0.75)
    assert (strict.grade, strict.method) == ("INCORRECT", "overlap")
    assert grade_answer("Einstein", "Marie Curie").score == 0.0


def test_reference_without_words_is_compared_literally() -> None:
    assert grade_answer("?", "?").grade == "CORRECT"
    assert grade_answer("Paris", "?").grade == "INCORRECT"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  The  Eiffel   Tower!  ", "eiffel tower"),
        ("A cat, a dog, an owl.", "cat dog owl"),
        ("Zürich CAFÉ", "zurich cafe"),
        ("1,000,000", "1000000"),
        ("3.14", "3.14"),
        ("3.50", "3.5"),
        ("1000.0", "1000"),
        ("zero one twelve twenty", "0 1 12 20"),
        ("twenty-one", "21"),
        ("two hundred thousand", "200000"),
        ("1.5 million", "1500000"),
        ("no one knows", "no one knows"),
        ("July 4, 1776", "1776-07-04"),
        ("4 July 1776", "1776-07-04"),
        ("1776-07-04", "1776-07-04"),
        ("Jul 4th 1776", "1776-07-04"),
        ("the 4th of July, 1776", "1776-07-04"),
        ("Sept. 1939", "1939-09"),
        ("July 4", "07-04"),
        ("You may go in March.", "you may go in march"),
        ("Curie's", "curie"),
        ("It's the U.S.A.", "it is usa"),
        ("don't", "dont"),
        ("1, 2, 3", "1 2 3"),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_answer_tokens_are_the_normalised_words() -> None:
    assert answer_tokens("**The** Eiffel Tower, built 1889.") == [
        "eiffel",
        "tower",
        "built",
        "1889",
    ]
    assert answer_tokens("") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I don't know.", True),
        ("I’m not sure.", True),
        ("Sorry, I do not know the answer to that.", True),
        ("I cannot answer that.", True),
        ("I'm unable to determine that.", True),
        ("I don't have any information about this person.", True),
        ("unknown", True),
        ("N/A", True),
        ("Great question! Unfortunately I don't know.", True),
        ("Paris", False),
        ("", False),
        ("I'm not sure, but I think it's Paris.", False),
        ("I don't know for sure, but it's probably 42.", False),
        ("The Tomb of the Unknown Soldier.", False),
        ("Penguins cannot fly.", False),
    ],
)
def test_is_refusal(text: str, expected: bool) -> None:
    assert is_refusal(text) is expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("CORRECT", "CORRECT"),
        ("INCORRECT", "INCORRECT"),
        ("NOT_ATTEMPTED", "NOT_ATTEMPTED"),
        ("Grade: correct", "CORRECT"),
        ("**INCORRECT**", "INCORRECT"),
        ("not attempted", "NOT_ATTEMPTED"),
        ("Not-Attempted.", "NOT_ATTEMPTED"),
        ("The answer is not correct.", "INCORRECT"),
        ("It names London, which is incorrect.\nGrade: INCORRECT", "INCORRECT"),
        ("Correct at first glance, but no.\nGrade: **incorrect**", "INCORRECT"),
        ("Grade (CORRECT, INCORRECT or NOT_ATTEMPTED): NOT_ATTEMPTED", "NOT_ATTEMPTED"),
        ("", None),
        ("I cannot decide.", None),
        ("CORRECTION needed", None),
        ("It was answered incorrectly", None),
        ("A", None),
    ],
)
def test_parse_judge_reply(reply: str, expected: Grade | None) -> None:
    assert parse_judge_reply(reply) == expected


def test_judge_messages_carry_question_reference_answer_and_article() -> None:
    system, user = judge_messages(
        "What is the capital of France?", "Paris", "Lyon", "France's capital is Paris."
    )
    assert (system.role, user.role) == ("system", "user")
    for label in ("CORRECT", "INCORRECT", "NOT_ATTEMPTED"):
        assert label in system.content
    for part in ("What is the capital of France?", "Paris", "Lyon", "France's capital is Paris."):
        assert part in user.content
    # the answer comes after the reference material, so the judge reads it last
    assert user.content.index("Lyon") > user.content.index("France's capital")


def test_judge_messages_without_article_do_not_mention_one() -> None:
    _, user = judge_messages("Q?", "Paris", "Lyon")
    assert "Article" not in user.content
    assert "Q?" in user.content and "Lyon" in user.content


def test_judged() -> None:
    assert judged("CORRECT") == GradeResult("CORRECT", "judge", 1.0)
    assert judged("INCORRECT") == GradeResult("INCORRECT", "judge", 0.0)
    assert judged("NOT_ATTEMPTED") == GradeResult("NOT_ATTEMPTED", "judge", 0.0)

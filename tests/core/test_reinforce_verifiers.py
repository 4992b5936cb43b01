"""The verifiers read answers leniently — spaces, words for numbers, trailing text, an
answer line anywhere — and still say no to a wrong answer; every task's own worked and
direct answers pass its verifier."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.reinforce.answers import answer_text, numbers_in, words_value
from desktop.core.reinforce.tasks import HELD_OUT, TRAIN, Problem, get_task


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("Answer: 3", [3]),
        ("answer:3", [3]),
        ("  Answer :   3  ", [3]),
        ("The answer is three.", [3]),
        ("3 r's", [3]),
        ("s t r1 a w\nAnswer: 2\nI counted twice.", [2]),
        ("Answer: twenty-one", [21]),
        ("Answer: one hundred and five", [105]),
        ("Answer: 1,234", [1234]),
        ("Answer: -5", [-5]),
        ("There are none", [0]),
        ("Answer: 1 2 5 9", [1, 2, 5, 9]),
        ("Answer: [1, 2, 5, 9]", [1, 2, 5, 9]),
        ("Answer: one, two, five", [1, 2, 5]),
        ("no answer line, but 7 at the end", [7]),
        ("", []),
    ],
)
def test_numbers_are_read_from_the_answer_line(completion: str, expected: list[int]) -> None:
    assert numbers_in(answer_text(completion)) == expected


@pytest.mark.parametrize(
    ("words", "value"),
    [("zero", [0]), ("seven", [7]), ("forty two", [42]), ("forty-two", [42]),
     ("two three", [2, 3]), ("eleven twelve", [11, 12]), ("five thousand three hundred twelve",
     [5312]), ("a hundred", [100]), ("and", None)],
)  # fmt: skip
def test_number_words(words: str, value: list[int] | None) -> None:
    assert words_value(words.replace("a hundred", "hundred")) == value


COUNT = Problem("How many r's are in strawberry?", "3", "", "Answer: 3")
ADD = Problem("What is 47 + 38?", "85", "", "Answer: 85")
SORT = Problem("Sort these numbers: 5 2 9 1", "1 2 5 9", "", "Answer: 1 2 5 9")


@pytest.mark.parametrize(
    ("task", "problem", "completion", "correct"),
    [
        ("count-letters", COUNT, "Answer: 3", True),
        ("count-letters", COUNT, "strawberry\n0011111233\nAnswer: 3", True),
        ("count-letters", COUNT, "answer: three", True),
        ("count-letters", COUNT, "The answer is 3 r's, I think.", True),
        ("count-letters", COUNT, "Answer: 2", False),
        ("count-letters", COUNT, "strawberry\n0011111222\nAnswer: 2", False),
        ("count-letters", COUNT, "I do not know", False),
        ("count-letters", COUNT, "Answer: 33", False),
        ("add", ADD, "7+8=15\n4+3+1=8\nAnswer: 85", True),
        ("add", ADD, "Answer:85.", True),
        ("add", ADD, "eighty-five", True),
        ("add", ADD, "Answer: 75", False),
        ("sort", SORT, "Answer: 1 2 5 9", True),
        ("sort", SORT, "Answer: 1, 2, 5, 9.", True),
        ("sort", SORT, "Answer: one two five nine", True),
        ("sort", SORT, "Answer: 1 2 9 5", False),
        ("sort", SORT, "Answer: 1 2 5", False),
    ],
)
def test_verdicts(task: str, problem: Problem, completion: str, correct: bool) -> None:
    verdict = get_task(task).verify(problem, completion)
    assert verdict.correct is correct
    assert verdict.label.startswith("✓" if correct else "✗")


@pytest.mark.parametrize("name", ["count-letters", "add", "sort"])
@pytest.mark.parametrize("difficulty", [1, 2, 3, 4])
def test_teachers_answers_pass_and_held_out_is_apart(name: str, difficulty: int) -> None:
    task = get_task(name)
    rng = np.random.default_rng(difficulty)
    train = [task.problem(rng, difficulty, TRAIN) for _ in range(60)]
    held = [task.problem(rng, difficulty, HELD_OUT) for _ in range(60)]
    for problem in train + held:
        assert task.verify(problem, problem.worked).correct
        assert task.verify(problem, problem.direct).correct
        assert len(problem.worked) > len(problem.direct)  # the working makes it longer
    assert not {p.prompt for p in train} & {p.prompt for p in held}


def test_count_letters_answers_are_spread() -> None:
    """A guess of the commonest count is right about a quarter of the time, not most."""
    task = get_task("count-letters")
    rng = np.random.default_rng(0)
    answers = [task.problem(rng, 2, TRAIN).answer for _ in range(800)]
    shares = [answers.count(a) / len(answers) for a in set(answers)]
    assert max(shares) < 0.4


def test_unknown_task_is_named() -> None:
    with pytest.raises(KeyError, match="unknown task 'juggle'"):
        get_task("juggle")

"""Count a letter in a word: the raspberry question ("How many R's are in strawberry?").

Big models stumble on it because they read tokens, not letters. Our tiny models read
bytes, so they see every letter, and the question becomes one of procedure. The worked
answer writes the word out and, under it, a running tally — how many of the letter so
far, letter by letter — then reads the answer off its end:

    strawberry
    0011111233
    Answer: 3

The direct answer is the last line alone: a guess at a glance.

Shaped so a model of a hundred thousand numbers can learn the procedure in a minute or
two: a difficulty has words of one length (4, 6, 8 or 10 letters: the tally's column i
then always sits the same distance after the word's letter i), the letter asked about is
written in capitals (the one capital letter in the question: easy to find), and half the
training words are random letters (a model cannot memorise how to spell those, so it
learns to copy). The held-out words are real words it never saw.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from desktop.core.reinforce.answers import answer_text, first_number
from desktop.core.reinforce.tasks import HELD_OUT, Problem, Verdict, held_out, stable_hash
from desktop.core.resources import resources_dir

LENGTHS = {1: 4, 2: 6, 3: 8, 4: 10}  # word length by difficulty
MAX_COUNT = 3  # counts of 3 and more are one group when problems are drawn
RANDOM_SHARE = 0.5  # training words that are random letters
LETTERS = "abcdefghijklmnopqrstuvwxyz"
TEMPLATES = (
    "How many {letter}'s are in {word}?",
    "Count the letter {letter} in {word}.",
    "How many times does {letter} appear in {word}?",
)


@lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    path = resources_dir() / "reinforce" / "words.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(w for w in (line.strip() for line in lines)
                 if w.isalpha() and w.isascii() and w.islower())  # fmt: skip


@lru_cache(maxsize=8)
def _by_count(difficulty: int, held: bool) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Real (word, letter) pairs grouped by how often the letter is in the word: 0, 1, 2,
    3+. A problem picks the count first, so guessing the commonest count gets about a
    quarter right, not most (a letter picked from a word is usually there once)."""
    length = LENGTHS[difficulty]
    pool = [w for w in words() if len(w) == length and held_out(stable_hash(w)) == held]
    groups: list[list[tuple[str, str]]] = [[] for _ in range(MAX_COUNT + 1)]
    for word in pool:
        for letter in LETTERS:
            groups[min(word.count(letter), MAX_COUNT)].append((word, letter))
    return tuple(tuple(g) for g in groups if g)


def random_word(rng: np.random.Generator, length: int) -> tuple[str, str]:
    """Random letters with a letter in them 0 to 3 times, and that letter."""
    count = int(rng.integers(0, min(MAX_COUNT, length) + 1))
    letter = LETTERS[int(rng.integers(len(LETTERS)))]
    others = LETTERS.replace(letter, "")
    chars = [others[int(i)] for i in rng.integers(0, len(others), size=length)]
    for position in rng.choice(length, size=count, replace=False):
        chars[int(position)] = letter
    return "".join(chars), letter


def worked_answer(word: str, letter: str) -> str:
    """The word, the running tally under it, the answer."""
    tally, count = [], 0
    for ch in word:
        count += ch == letter
        tally.append(str(min(count, 9)))
    return f"{word}\n{''.join(tally)}\nAnswer: {count}"


class CountLetters:
    name = "count-letters"
    title = "Count a letter in a word"

    def problem(self, rng: np.random.Generator, difficulty: int, split: str) -> Problem:
        if split != HELD_OUT and rng.random() < RANDOM_SHARE:
            word, letter = random_word(rng, LENGTHS[difficulty])
        else:
            groups = _by_count(difficulty, split == HELD_OUT)
            group = groups[int(rng.integers(len(groups)))]
            word, letter = group[int(rng.integers(len(group)))]
        template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
        count = word.count(letter)
        return Problem(
            prompt=template.format(letter=letter.upper(), word=word),
            answer=str(count),
            worked=worked_answer(word, letter),
            direct=f"Answer: {count}",
        )

    def verify(self, problem: Problem, completion: str) -> Verdict:
        read = first_number(answer_text(completion))
        shown = "" if read is None else str(read)
        return Verdict(shown == problem.answer, shown, problem.answer)

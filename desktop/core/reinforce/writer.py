"""Things with no single right answer — a joke, a two-line poem, a story opening — for
RLHF's policy: a tiny model that has learned to write them in the shapes people use.

The teacher's answers are made from patterns and word lists, so a model of a hundred
thousand numbers learns to write them in a minute; what it writes varies (which animal,
which place, which pattern), so two answers to the same request differ in ways a person
can prefer one over the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ANIMALS = ("cat", "dog", "fox", "owl", "bear", "frog", "duck", "goat", "mouse", "horse",
           "sheep", "snail", "whale", "crab", "bee", "pig")  # fmt: skip
PLACES = ("road", "river", "forest", "garden", "kitchen", "library", "market", "castle",
          "beach", "hill", "barn", "city")  # fmt: skip
THINGS = ("hat", "cake", "drum", "map", "kite", "spoon", "boat", "lamp", "book", "key",
          "sock", "bell")  # fmt: skip
ADJECTIVES = ("tiny", "happy", "sleepy", "brave", "silly", "quiet", "clever", "grumpy",
              "lucky", "shy", "old", "proud")  # fmt: skip
TIMES = ("morning", "night", "winter", "summer", "rain", "dusk")

REQUESTS = {
    "joke": ("Tell me a joke.", "Make me laugh.", "Tell me a funny joke."),
    "poem": ("Write a two-line poem.", "Write a short poem.", "A poem, please."),
    "story": ("Start a story.", "Begin a story for me.", "Write the first line of a story."),
}
PATTERNS = {
    "joke": (
        "Why did the {animal} cross the {place}? To find a {thing}!",
        "What do you call a {adjective} {animal}? A {animal2} with a {thing}.",
        "Why was the {animal} so {adjective}? It lost its {thing} in the {place}.",
    ),
    "poem": (
        "The {adjective} {animal} sleeps in the {place},\nand dreams of a {thing} in the {time}.",
        "A {thing} in the {place}, a {animal} in the {time},\nthe {adjective} world is mine.",
        "In the {time} the {animal} sings,\na {adjective} song of {thing}s and things.",
    ),
    "story": (
        "Once upon a time, a {adjective} {animal} lived in a {place}.",
        "It was a {adjective} {time} when the {animal} found a {thing}.",
        "Long ago, in a {adjective} {place}, there lived a {animal} with a {thing}.",
    ),
}


@dataclass(frozen=True)
class Request:
    prompt: str
    kind: str  # joke, poem, story


def pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    return items[int(rng.integers(len(items)))]


def request(rng: np.random.Generator) -> Request:
    kind = pick(rng, tuple(REQUESTS))
    return Request(pick(rng, REQUESTS[kind]), kind)


def answer(rng: np.random.Generator, kind: str) -> str:
    """A teacher's answer to a request of `kind`."""
    return pick(rng, PATTERNS[kind]).format(
        animal=pick(rng, ANIMALS), animal2=pick(rng, ANIMALS), place=pick(rng, PLACES),
        thing=pick(rng, THINGS), adjective=pick(rng, ADJECTIVES), time=pick(rng, TIMES),
    )  # fmt: skip


class WriterTask:
    """The writer as a `Task` for `TaskExamples`: it has no verifier (nothing is right or
    wrong), so only its problems are used."""

    name = "writer"
    title = "Jokes, two-line poems, story openings"

    def problem(self, rng: np.random.Generator, difficulty: int, split: str) -> object:
        from desktop.core.reinforce.tasks import Problem

        asked = request(rng)
        text = answer(rng, asked.kind)
        return Problem(asked.prompt, "", text, text)

    def verify(self, problem: object, completion: str) -> object:
        raise NotImplementedError("a joke has no right answer: RLHF learns a reward instead")

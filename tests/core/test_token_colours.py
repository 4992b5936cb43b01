from __future__ import annotations

import json

from desktop.core.chat.generation import TokenAlternative, TokenEvent
from desktop.core.chat.token_colours import (
    PROBABILITY_COLOURS,
    events_from_json,
    events_to_json,
    probability_colour,
    token_colour,
    token_tooltip,
)

EVENTS = [
    TokenEvent("Hello", 1, 0.95, (TokenAlternative("Hello", 0.95), TokenAlternative("Hi", 0.03))),
    TokenEvent(" <b>", 2, 0.05, (TokenAlternative(" ", 0.5),)),
    TokenEvent("", 3, 0.2),  # part of a UTF-8 character: nothing to show
]


def test_colours_go_from_sure_to_guessing() -> None:
    assert probability_colour(1.0) == PROBABILITY_COLOURS[0][1]
    assert probability_colour(0.0) == PROBABILITY_COLOURS[-1][1]
    assert probability_colour(0.95) != probability_colour(0.05)


def test_the_scale_reads_without_colour_vision_too() -> None:
    from desktop.core.chat.token_colours import probability_underline

    assert [probability_underline(p) for p in (0.95, 0.5, 0.2, 0.05)] == [
        "none", "none", "dotted", "wavy"
    ]  # fmt: skip
    # no pure green/red pair: the ends differ in blue-yellow, which colour-blind eyes see
    sure, guess = PROBABILITY_COLOURS[0][1], PROBABILITY_COLOURS[-1][1]
    assert int(sure[5:7], 16) > int(sure[1:3], 16)  # blue above red at the sure end
    assert int(guess[1:3], 16) > int(guess[5:7], 16)  # red above blue at the other


def test_neighbours_with_the_same_probability_still_differ() -> None:
    assert token_colour(0, 0.5) == probability_colour(0.5)
    assert token_colour(1, 0.5) != token_colour(0, 0.5)
    assert token_colour(2, 0.5) == token_colour(0, 0.5)


def test_tooltip_lists_alternatives_with_visible_whitespace() -> None:
    tip = token_tooltip(EVENTS[1])
    assert tip.splitlines() == ["·<b>  p = 5.0%", "Top alternatives:", "  ·  50.0%"]


def test_json_round_trip() -> None:
    back = events_from_json(json.loads(json.dumps(events_to_json(EVENTS))))
    assert [(e.text, e.prob, e.alternatives) for e in back] == [
        (e.text, e.prob, e.alternatives) for e in EVENTS
    ]

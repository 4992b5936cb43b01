"""Token-probability colouring: each token coloured by how sure the model was.

Pure functions, tested without a widget; the tooltip lists the alternatives the model
considered at that position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desktop.core.generation import TokenAlternative, TokenEvent

# (threshold, background): at or above the threshold, use the colour. Green = confident.
PROBABILITY_COLOURS: tuple[tuple[float, str], ...] = (
    (0.9, "#c8f0c8"),
    (0.6, "#e6f5b0"),
    (0.3, "#ffe7a3"),
    (0.1, "#ffc891"),
    (0.0, "#ffa3a3"),
)


def probability_colour(prob: float) -> str:
    for threshold, colour in PROBABILITY_COLOURS:
        if prob >= threshold:
            return colour
    return PROBABILITY_COLOURS[-1][1]


def visible(text: str) -> str:
    """Make whitespace-only alternatives readable in a tooltip."""
    return text.replace("\n", "↵").replace(" ", "·") or "∅"


def token_tooltip(event: TokenEvent) -> str:
    lines = [f"{visible(event.text)}  p = {event.prob:.1%}"]
    if event.alternatives:
        lines.append("Top alternatives:")
        lines += [f"  {visible(a.text)}  {a.prob:.1%}" for a in event.alternatives]
    return "\n".join(lines)


def shade(colour: str, factor: float) -> str:
    """Darken a #rrggbb colour: every other token is shaded so neighbours stay apart."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(int(c * factor) for c in (r, g, b)))


def legend_html() -> str:
    cells = [
        f'<span style="background-color:{colour}">&nbsp;p ≥ {threshold:.0%}&nbsp;</span>'
        if threshold
        else f'<span style="background-color:{colour}">&nbsp;p &lt; 10%&nbsp;</span>'
        for threshold, colour in PROBABILITY_COLOURS
    ]
    return "How sure the model was: " + " ".join(cells)


def token_colour(index: int, prob: float) -> str:
    """The background of the index-th token: its probability's colour, odd ones shaded."""
    colour = probability_colour(prob)
    return shade(colour, 0.9) if index % 2 else colour


def events_to_json(events: Sequence[TokenEvent]) -> list[list[object]]:
    """Compact form for the database: [text, prob, [[alt, prob], ...]] per token."""
    return [
        [e.text, round(e.prob, 5), [[a.text, round(a.prob, 5)] for a in e.alternatives]]
        for e in events
    ]


def events_from_json(rows: Sequence[Any]) -> list[TokenEvent]:
    """Inverse of `events_to_json` (rows come back from JSON, so they are untyped)."""
    return [
        TokenEvent(
            text=str(text),
            token_id=-1,
            prob=float(prob),
            alternatives=tuple(TokenAlternative(str(a), float(p)) for a, p in alternatives),
        )
        for text, prob, alternatives in rows
    ]

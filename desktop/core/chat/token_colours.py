"""Token-probability colouring: each token coloured by how sure the model was.

Pure functions, tested without a widget; the tooltip lists the alternatives the model
considered at that position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desktop.core.chat.generation import TokenAlternative, TokenEvent

# (threshold, background): at or above the threshold, use the colour. Blue = confident,
# through yellow, to red = guessing: ColorBrewer's RdYlBu, which people with red-green
# colour blindness tell apart (green-to-red does not), in tints light enough for black text
# on a washed-out projector.
PROBABILITY_COLOURS: tuple[tuple[float, str], ...] = (
    (0.9, "#c6dbef"),
    (0.6, "#e0f3f8"),
    (0.3, "#fee090"),
    (0.1, "#fdae61"),
    (0.0, "#f4a582"),
)
# Not by colour alone: the less likely a token was, the stronger its underline.
UNDERLINES: tuple[tuple[float, str], ...] = ((0.3, "none"), (0.1, "dotted"), (0.0, "wavy"))


def probability_colour(prob: float) -> str:
    for threshold, colour in PROBABILITY_COLOURS:
        if prob >= threshold:
            return colour
    return PROBABILITY_COLOURS[-1][1]


def probability_underline(prob: float) -> str:
    """ "none", "dotted" or "wavy": the cue that does not depend on seeing colours."""
    for threshold, style in UNDERLINES:
        if prob >= threshold:
            return style
    return UNDERLINES[-1][1]


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
    return ("How sure the model was: " + " ".join(cells)
            + " · <u>dotted</u> under p &lt; 30%, wavy under p &lt; 10%")  # fmt: skip


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

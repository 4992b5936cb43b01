"""How the data viewer shows an example: the conversation token by token, the tokens that
carry the loss (the assistant's) in green, the context greyed — neighbouring tokens in
two shades, so each token's edges show. Model and user text is escaped: it is shown as
written, never as markup."""

from __future__ import annotations

import html
from collections.abc import Sequence

from desktop.core.tokens.display import piece_text

LEARNED = ("#c9ebc9", "#a6dba6")  # two shades, token after token
LEARNED_TEXT = "#0b3d0b"
CONTEXT = ("#f1f1f1", "#e3e3e3")
CONTEXT_TEXT = "#8a8a8a"
NEWLINE = "↵"


def masked_tokens_html(pieces: Sequence[bytes], mask: Sequence[int]) -> str:
    """One HTML block: every token a span, learned or context, newlines shown as ↵."""
    spans = []
    for n, (piece, learned) in enumerate(zip(pieces, mask, strict=True)):
        background = (LEARNED if learned else CONTEXT)[n % 2]
        colour = LEARNED_TEXT if learned else CONTEXT_TEXT
        text = html.escape(piece_text(piece)).replace("\n", NEWLINE + "\n")
        spans.append(f'<span style="background-color:{background}; color:{colour}">{text}</span>')
    return ('<div style="white-space:pre-wrap; font-family:monospace">' + "".join(spans)
            + "</div>")  # fmt: skip


def legend_html() -> str:
    return (
        f'<span style="background-color:{LEARNED[0]}; color:{LEARNED_TEXT}">&nbsp;learned: '
        f"the assistant's tokens&nbsp;</span> &nbsp; <span style=\"background-color:"
        f'{CONTEXT[0]}; color:{CONTEXT_TEXT}">&nbsp;context: read, not learned&nbsp;</span>'
    )

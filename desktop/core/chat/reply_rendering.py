"""How a message is shown: Markdown, or plain text when formatting it would stall the window.

Qt lays a document out on the GUI thread, and some texts cost far more than their size:
a 1,000×20 Markdown table took 7.8 s, a 2,000-column one over 20 s, a 100 KB run of
characters without a space over a second (line breaking is worse than linear in the
length of an unbreakable run). The limits below keep one render under the app's goal
(no stall over 100 ms; figures in bench/bench_reply_rendering.py). Past them the text is
shown as plain text, in a box that scrolls on its own once it is long, with a note that
says so. Qt-free, so the choice is tested without a widget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from desktop.core.formatting import format_bytes

# Markdown only below these: a reply at all of them at once renders in about 50 ms on the
# 2-core machine (bench_reply_rendering.py, "markdown_at_limits"), half the goal.
MARKDOWN_MAX_CHARS = 50_000
MARKDOWN_MAX_TABLE_CELLS = 400  # estimated as the number of "|" characters
MARKDOWN_MAX_TABLE_COLUMNS = 40  # the most "|" on one line
# Plain text is laid out in full (the bubble is as tall as its text) only below this;
# past it, a box with its own scroll bar lays out only what is visible.
INLINE_PLAIN_MAX_CHARS = 100_000
SCROLLING_LINE_MAX = 10_000  # the scrolling view lays out a line whole: cut for display
# A run without a break opportunity longer than this gets zero-width spaces in it (shown
# only: Copy copies the text as written), so Qt's line breaking stays linear.
LONGEST_UNBROKEN_RUN = 500

ZERO_WIDTH_SPACE = "\u200b"
_LONG_RUN = re.compile(rf"\S{{{LONGEST_UNBROKEN_RUN + 1},}}")

# While a reply streams, text before its last paragraph break is drawn once and kept; only
# the paragraph being written is drawn again on each tick, and it is cut when it grows
# past this (a long table, a long run of text) so a tick never draws much.
STREAM_TAIL_MAX_CHARS = 4_000

RenderMode = Literal["markdown", "plain", "scrolling_plain"]
_FENCE = re.compile(r" {0,3}(```|~~~)")


@dataclass(frozen=True)
class RenderPlan:
    mode: RenderMode
    text: str  # what to give the view (long runs broken for display)
    note: str = ""  # why it is not formatted, for the person


def plan_rendering(text: str, *, markdown: bool) -> RenderPlan:
    """How to show `text`: a reply (`markdown`) or a user's message (always plain)."""
    if len(text) > INLINE_PLAIN_MAX_CHARS:
        note = f"Shown as plain text: too large to format ({_size(text)} of text)."
        return RenderPlan("scrolling_plain", cut_long_lines(text), note if markdown else "")
    reason = too_costly_to_format(text) if markdown else ""
    if markdown and not reason:
        return RenderPlan("markdown", text)
    note = f"Shown as plain text: too large to format ({reason})." if reason else ""
    return RenderPlan("plain", break_long_runs(text), note)


def too_costly_to_format(text: str) -> str:
    """Why formatting `text` as Markdown would stall the window, or "" if it would not."""
    reasons = []
    if len(text) > MARKDOWN_MAX_CHARS:
        reasons.append(f"{_size(text)} of text")
    pipes = text.count("|")
    if pipes > MARKDOWN_MAX_TABLE_CELLS:
        reasons.append(f"tables with about {pipes:,} cells")
    elif pipes > MARKDOWN_MAX_TABLE_COLUMNS:
        widest = max(line.count("|") for line in text.splitlines())
        if widest > MARKDOWN_MAX_TABLE_COLUMNS:
            reasons.append(f"a table {widest - 1:,} columns wide")
    run = _LONG_RUN.search(text)
    if run:
        length = len(longest_run(text, run.start()))
        reasons.append(f"{length:,} characters without a space")
    return ", ".join(reasons)


def _size(text: str) -> str:
    return format_bytes(len(text.encode("utf-8", "replace")))


def longest_run(text: str, start: int) -> str:
    """The run of non-space characters starting at `start`."""
    match = re.compile(r"\S+").match(text, start)
    return match.group() if match else ""


def cut_long_lines(text: str, width: int = SCROLLING_LINE_MAX) -> str:
    """Lines longer than `width` cut into lines of at most `width` (after a space where
    there is one in the second half), for the scrolling view: it lays out a line whole, so
    a 1 MB line would cost as much as laying out everything."""
    if all(len(line) <= width for line in text.split("\n")):
        return text
    out: list[str] = []
    for line in text.split("\n"):
        while len(line) > width:
            space = line.rfind(" ", width // 2, width)
            cut = space + 1 if space >= 0 else width
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    return "\n".join(out)


def break_long_runs(text: str, every: int = LONGEST_UNBROKEN_RUN) -> str:
    """Zero-width spaces inside runs longer than `every`, so lines can break there."""
    if not _LONG_RUN.search(text):
        return text

    def cut(match: re.Match[str]) -> str:
        run = match.group()
        return ZERO_WIDTH_SPACE.join(run[i : i + every] for i in range(0, len(run), every))

    return _LONG_RUN.sub(cut, text)


def stable_end(text: str, start: int = 0) -> int:
    """Where the finished part of a streaming Markdown text ends: just after its last blank
    line outside a code block (from `start`, itself such a place). Text before it is
    formatted the same whatever comes after; the rest may still change its meaning."""
    end = start
    fence = ""
    position = start
    for line in text[start:].splitlines(keepends=True):
        position += len(line)
        if not line.endswith("\n"):
            break  # the line being written
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1) == fence:
                fence = ""
        elif opening:
            fence = opening.group(1)
        elif not line.strip():
            end = position
    return end


def next_kept_part(text: str, start: int) -> tuple[int, bool] | None:
    """The end of the next part of a streaming text to draw once and keep (the kept part
    ends at `start` so far), and whether it must be drawn as plain text: a cut inside a
    paragraph that grew too long, whose Markdown is not complete. None: nothing to keep yet.
    """
    end = stable_end(text, start)
    if end > start:
        return end, False
    if len(text) - start <= STREAM_TAIL_MAX_CHARS:
        return None
    newline = text.rfind("\n", start, len(text) - 1)
    return (newline + 1 if newline >= start else len(text)), True

"""How a message is shown (Markdown or plain text, and why), which links may open, and how a
streaming reply is cut into parts drawn once: core functions, no Qt."""

from __future__ import annotations

import pytest

from desktop.core.chat import reply_rendering as rr
from desktop.core.chat.reply_links import INERT_LINK, link_tooltip, openable_address
from desktop.core.chat.reply_rendering import (
    ZERO_WIDTH_SPACE,
    break_long_runs,
    cut_long_lines,
    next_kept_part,
    plan_rendering,
    stable_end,
)


def table(rows: int, columns: int) -> str:
    head = "|" + "|".join(f"h{c}" for c in range(columns)) + "|\n"
    rule = "|" + "|".join("---" for _ in range(columns)) + "|\n"
    body = "".join("|" + "|".join(f"r{r}c{c}" for c in range(columns)) + "|\n" for r in range(rows))
    return head + rule + body


TYPICAL = (
    "# Steps\n\n1. Open the **file**.\n2. Run `make`.\n\n```python\nprint('hi')\n```\n\n"
    + table(5, 4)
    + "\nSee [the docs](https://example.com/docs).\n"
)


def test_a_typical_reply_is_markdown_without_a_note() -> None:
    plan = plan_rendering(TYPICAL, markdown=True)
    assert plan.mode == "markdown" and plan.text == TYPICAL and plan.note == ""


@pytest.mark.parametrize(
    ("text", "mode", "words"),
    [
        (table(1000, 20), "scrolling_plain", "of text"),  # the 1,000×20 table
        (table(2, 2000), "plain", "cells"),  # 2,000 columns, 38 KB
        (table(2, 60), "plain", "columns wide"),
        (table(60, 9), "plain", "cells"),
        ("word " * 220_000, "scrolling_plain", "1.1 MB of text"),  # a 1 MB reply
        ("see " + "x" * 5_000, "plain", "5,000 characters without a space"),
    ],
)
def test_past_a_limit_a_reply_is_plain_text_with_a_note_that_says_why(
    text: str, mode: str, words: str
) -> None:
    plan = plan_rendering(text, markdown=True)
    assert plan.mode == mode
    assert plan.note.startswith("Shown as plain text: too large to format (")
    assert words in plan.note


def test_the_limits_are_where_they_say() -> None:
    prose = ("The model reads tokens. " * 10_000)[: rr.MARKDOWN_MAX_CHARS]
    assert plan_rendering(prose, markdown=True).mode == "markdown"
    assert plan_rendering(prose + "x", markdown=True).mode == "plain"
    rows = (rr.MARKDOWN_MAX_TABLE_CELLS // 5) - 2  # 5 "|" a row of 4 columns
    assert plan_rendering(table(rows, 4), markdown=True).mode == "markdown"
    assert plan_rendering(table(rows + 1, 4), markdown=True).mode == "plain"
    assert plan_rendering(table(2, rr.MARKDOWN_MAX_TABLE_COLUMNS - 1), markdown=True).mode == (
        "markdown"
    )


def test_a_users_message_is_never_markdown_and_needs_no_note() -> None:
    assert plan_rendering(TYPICAL, markdown=False).mode == "plain"
    big = plan_rendering("a line\n" * 20_000, markdown=False)
    assert big.mode == "scrolling_plain" and big.note == ""


def test_long_runs_get_invisible_break_points_and_nothing_else_changes() -> None:
    text = "start " + "x" * 1_234 + " end"
    shown = break_long_runs(text)
    assert shown.replace(ZERO_WIDTH_SPACE, "") == text
    assert max(len(run) for run in shown.replace(ZERO_WIDTH_SPACE, " ").split()) <= 500
    assert break_long_runs("short words only") == "short words only"


def test_the_scrolling_view_gets_no_line_over_its_width() -> None:
    text = "intro\n" + "word " * 3_000 + "\n" + "y" * 4_500 + "\nend"
    shown = cut_long_lines(text, width=2_000)
    assert max(len(line) for line in shown.split("\n")) <= 2_000
    assert shown.replace("\n", "") == text.replace("\n", "")
    assert shown.split("\n")[1].endswith(" ")  # cut after a space where there is one


def test_a_streaming_text_is_kept_up_to_its_last_blank_line_outside_code() -> None:
    text = "# Title\n\nFirst paragraph.\n\n```\ncode\n\nstill code\n```\n\nThe last one is bei"
    end = stable_end(text)
    assert text[:end].endswith("```\n\n") and text[end:] == "The last one is bei"
    assert stable_end("no blank line yet\nstill writing") == 0
    assert stable_end("```\nopen fence\n\nnot closed\n") == 0  # inside code: nothing kept
    assert stable_end(text, start=end) == end


def test_a_long_unfinished_paragraph_is_cut_and_kept_as_plain_text() -> None:
    rows = table(200, 6)  # a table has no blank line: it would be drawn whole every tick
    assert next_kept_part(rows[:1000], 0) is None
    end, plain = next_kept_part(rows, 0) or (0, False)
    assert plain and rows[end - 1] == "\n" and len(rows) - end <= rr.STREAM_TAIL_MAX_CHARS
    assert next_kept_part("done.\n\nnext", 0) == (7, False)


@pytest.mark.parametrize(
    ("address", "opens"),
    [
        ("https://example.com/a?b=1#c", True),
        ("HTTP://example.com", True),
        ("file:///dev/zero", False),
        ("file:///etc/passwd", False),
        ("docs/help.md", False),
        ("../../secret.txt", False),
        ("/etc/passwd", False),
        ("javascript:alert(1)", False),
        ("data:text/html,<b>x</b>", False),
        ("mailto:someone@example.com", False),
        ("http:///no-host", False),
        ("http://[bad", False),
    ],
)
def test_only_web_addresses_with_a_host_may_open(address: str, opens: bool) -> None:
    assert (openable_address(address) is not None) is opens
    tip = link_tooltip(address)
    assert address in tip
    assert (INERT_LINK in tip) is not opens

"""Showing a reply: how long can one message stall the GUI thread?

Opening a conversation puts each stored message into the transcript the way the Chat tab
does (`MessageWidget` in a `TranscriptView`, 760 px wide). For each reply below the bench
measures the render call and the worst lateness of a 10 ms GUI timer from just before
the message is added until 300 ms after (layout and painting included); three runs, the
median of each figure. Then a long Markdown reply (~24 KB with a 40-row table) streams
through the app's `ReplyStream` in 50 ms batches, and the timer's p99 and max are taken.

Goals (the app's responsiveness goal): no single stall > 100 ms from rendering a reply;
p99 ≤ 30 ms while streaming. Replies: the issue's 1,000×20 table, a 2,000-column table,
1 MB of Markdown prose, a 100 KB "word" without spaces, a typical 4 KB answer (which must
stay formatted), a reply just inside all the Markdown limits of core/chat/reply_rendering.py
(prose and a 9-column table), and a 4,000-token reply with token probabilities shown.

Quick mode (`--quick`): one run each, a 100×20 table, 200 columns, 100 KB of prose, 10 KB
without a space, 500 tokens, a 3 KB streamed reply; the Markdown-or-plain choices are the
same kind, the timings mean nothing.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ForeignLoad, emit, isolate_home, machine, quick_mode
from gui_timing import spin, stall_figures, stall_meter_class

QUICK = quick_mode()
RUNS = 1 if QUICK else int(os.environ.get("BENCH_RUNS", "3"))
SETTLE_S = 0.3
MAX_GOAL_MS = 100.0
P99_GOAL_MS = 30.0
WIDTH, HEIGHT = 760, 700


def table(rows: int, columns: int) -> str:
    head = "| " + " | ".join(f"col {c}" for c in range(columns)) + " |\n"
    rule = "|" + "---|" * columns + "\n"
    body = "".join(
        "| " + " | ".join(f"r{r}c{c}" for c in range(columns)) + " |\n" for r in range(rows)
    )
    return head + rule + body


WORDS = """the model reads **tokens** not letters and a `tokenizer` cuts text into pieces it
has seen often so rare words take several"""


def prose(size: int, seed: int = 1) -> str:
    words = WORDS.split()
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        paragraph = " ".join(rng.choice(words) for _ in range(90)) + "\n\n"
        if len(parts) % 6 == 0:
            paragraph = f"## Part {len(parts)}\n\n" + paragraph
        parts.append(paragraph)
        total += len(paragraph)
    return "".join(parts)[:size]


def typical_answer() -> str:
    code = "```python\ndef add(a, b):\n    return a + b\n```\n\n"
    items = "".join(f"{i}. Step {i}: do the *thing* number {i}.\n" for i in range(1, 9))
    return ("# An answer\n\n" + prose(2000, seed=2) + "\n\n" + items + "\n" + code
            + table(6, 4) + "\n" + prose(800, seed=3))  # fmt: skip


def at_the_limits() -> str:
    """Just inside every Markdown limit: the most formatting one reply may ask for."""
    from desktop.core.chat.reply_rendering import MARKDOWN_MAX_CHARS, MARKDOWN_MAX_TABLE_CELLS

    rows = MARKDOWN_MAX_TABLE_CELLS // 10 - 2  # 10 "|" a row of 9 columns
    cells = table(rows, 9)
    return prose(MARKDOWN_MAX_CHARS - len(cells) - 2) + "\n\n" + cells


def replies() -> dict[str, str]:
    return {
        "typical_4kb": typical_answer(),
        "markdown_at_limits": at_the_limits(),
        "table_1000x20": table(100 if QUICK else 1000, 20),
        "table_2000_columns": table(2, 200 if QUICK else 2000),
        "markdown_1mb": prose(100_000 if QUICK else 1_000_000),
        "no_spaces_100kb": "x" * (10_000 if QUICK else 100_000),
    }


def open_message(transcript: Any, text: str, meter: Any) -> dict[str, Any]:
    """One stored reply added as the Chat tab adds it when a conversation opens."""
    from desktop.ui.chat.message_widget import MessageWidget

    meter.start()
    spin(0.05)
    started = time.perf_counter()
    widget = MessageWidget(1, "assistant")
    widget.set_show_probabilities(False)
    transcript.add(widget)
    widget.set_text(text)
    render_ms = (time.perf_counter() - started) * 1000
    spin(SETTLE_S)
    stalls = meter.stop()
    mode = getattr(widget, "render_mode", "markdown")  # this app's choice, where it says
    transcript.clear()
    spin(0.05)
    return {"render_ms": render_ms, "max_stall_ms": max(stalls), "mode": mode}


def open_with_probabilities(transcript: Any, tokens: int, meter: Any) -> dict[str, Any]:
    from desktop.core.chat.generation import TokenAlternative, TokenEvent
    from desktop.ui.chat.message_widget import MessageWidget

    rng = random.Random(4)
    events = [
        TokenEvent(text=rng.choice([" the", " model", " reads", "\n\n", " **x**", " tokens"]),
                   token_id=i, prob=rng.random(),
                   alternatives=(TokenAlternative(" a", 0.1), TokenAlternative(" an", 0.05)))
        for i in range(tokens)
    ]  # fmt: skip
    meter.start()
    spin(0.05)
    started = time.perf_counter()
    widget = MessageWidget(1, "assistant")
    widget.set_show_probabilities(True)
    transcript.add(widget)
    widget.set_events(events)
    render_ms = (time.perf_counter() - started) * 1000
    spin(SETTLE_S)
    stalls = meter.stop()
    transcript.clear()
    spin(0.05)
    return {"render_ms": render_ms, "max_stall_ms": max(stalls), "mode": "token spans"}


def stream(transcript: Any, meter: Any) -> dict[str, Any]:
    """A long Markdown reply through the app's ReplyStream, ~20 tokens per 50 ms batch."""
    from desktop.core.chat.generation import TokenEvent
    from desktop.ui.chat.message_widget import MessageWidget
    from desktop.ui.chat.reply_stream import ReplyStream

    text = prose(12_000, seed=5) + "\n\n" + table(40, 6) + "\n\n" + prose(8_000, seed=6)
    if QUICK:
        text = prose(1_500, seed=5) + "\n\n" + table(8, 6) + "\n\n" + prose(1_000, seed=6)
    pieces = [text[i : i + 4] for i in range(0, len(text), 4)]  # ~4 characters a token
    widget = transcript.add(MessageWidget(1, "assistant"))
    replies = ReplyStream(transcript)
    meter.start()
    replies.begin(widget)
    started = time.perf_counter()
    for start in range(0, len(pieces), 20):
        batch = [TokenEvent(text=p, token_id=0, prob=0.5) for p in pieces[start : start + 20]]
        replies.add(batch)
        spin(0.05)
    replies.end()
    spin(SETTLE_S)
    stalls = meter.stop()
    seconds = time.perf_counter() - started
    transcript.clear()
    return {**stall_figures(stalls), "characters": len(text), "seconds": seconds}


def main() -> None:
    isolate_home()
    from PySide6.QtWidgets import QApplication

    from desktop.ui.chat.transcript import TranscriptView

    app = QApplication.instance() or QApplication([])
    transcript = TranscriptView()
    transcript.resize(WIDTH, HEIGHT)
    transcript.show()
    spin(0.2)
    meter = stall_meter_class()()
    load = ForeignLoad()
    results: dict[str, Any] = {}
    for name, text in replies().items():
        runs = []
        load.start()
        for _ in range(RUNS):
            runs.append(open_message(transcript, text, meter))
        results[name] = {
            "characters": len(text),
            "render_ms": statistics.median(r["render_ms"] for r in runs),
            "max_stall_ms": statistics.median(r["max_stall_ms"] for r in runs),
            "mode": runs[0]["mode"],
            "foreign_load": load.stop(),
        }
        r = results[name]
        print(f"{name:20} {len(text):>9,} chars  render {r['render_ms']:8.1f} ms  worst stall "
              f"{r['max_stall_ms']:8.1f} ms  ({r['mode']}, other load {r['foreign_load']:.0%})",
              flush=True)  # fmt: skip
    tokens = 500 if QUICK else 4000
    runs = [open_with_probabilities(transcript, tokens, meter) for _ in range(RUNS)]
    results["probabilities_4000_tokens"] = {
        "render_ms": statistics.median(r["render_ms"] for r in runs),
        "max_stall_ms": statistics.median(r["max_stall_ms"] for r in runs),
        "mode": "token spans",
    }
    r = results["probabilities_4000_tokens"]
    print(f"{'probabilities 4000 tokens':27}  render {r['render_ms']:8.1f} ms  worst stall "
          f"{r['max_stall_ms']:8.1f} ms")  # fmt: skip
    load.start()
    streaming = stream(transcript, meter)
    streaming["foreign_load"] = load.stop()
    print(f"streaming {streaming['characters']:,} chars of Markdown: p99 "
          f"{streaming['p99_ms']:.1f} ms, max {streaming['max_ms']:.1f} ms over "
          f"{streaming['ticks']} ticks (other load {streaming['foreign_load']:.0%})")  # fmt: skip
    transcript.close()
    del app
    worst = max(r["max_stall_ms"] for r in results.values())
    goals = {
        "open_max_goal_met": worst <= MAX_GOAL_MS,
        "streaming_p99_goal_met": streaming["p99_ms"] <= P99_GOAL_MS,
        "streaming_max_goal_met": streaming["max_ms"] <= MAX_GOAL_MS,
        "typical_reply_formatted": results["typical_4kb"]["mode"] == "markdown",
        "limit_reply_formatted": results["markdown_at_limits"]["mode"] == "markdown",
    }
    for goal, met in goals.items():
        print(f"{goal}: {'met' if met else 'MISSED'}")
    emit({"benchmark": "reply_rendering", "machine": machine(), "opened": results,
          "streaming": streaming, "worst_open_stall_ms": worst, **goals,
          "goals_met": all(goals.values())})  # fmt: skip


if __name__ == "__main__":
    main()

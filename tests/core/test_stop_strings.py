from __future__ import annotations

import pytest

from desktop.core.chat.generation import TokenEvent
from desktop.core.chat.stop_strings import StopStringFilter, TokenStopFilter


def feed_all(stops: tuple[str, ...], chunks: list[str]) -> tuple[str, bool]:
    f = StopStringFilter(stops)
    out = "".join(f.feed(c) for c in chunks)
    return out + f.flush(), f.stopped


@pytest.mark.parametrize(
    ("chunks", "expected", "stopped"),
    [
        (["Paris.", "\nUs", "er:", " and"], "Paris.", True),  # split across tokens
        (["Paris.\nUser: more"], "Paris.", True),  # inside one token
        (["a\nUs", "ually"], "a\nUsually", False),  # a false start is released
        (["no stop here"], "no stop here", False),
        (["\nUser:"], "", True),  # stops before anything is shown
    ],
)
def test_stop_strings(chunks: list[str], expected: str, stopped: bool) -> None:
    assert feed_all(("\nUser:",), chunks) == (expected, stopped)


def test_text_that_may_start_a_stop_is_held_back() -> None:
    f = StopStringFilter(("\nUser:",))
    assert f.feed("Hi\nUs") == "Hi"
    assert f.feed("eful") == "\nUseful"


def test_earliest_of_several_stops_wins() -> None:
    assert feed_all(("END", "\nQ:"), ["x\nQ: y END"]) == ("x", True)


def test_token_filter_keeps_tokens_whole_and_truncates_the_last() -> None:
    f = TokenStopFilter(("\nUser:",))
    events = [TokenEvent(t, i, prob=0.5) for i, t in enumerate(["Par", "is.", "\nUs", "er:"])]
    released = [e for ev in events for e in f.feed(ev)] + f.flush()
    assert [e.text for e in released] == ["Par", "is."]
    assert all(e.prob == 0.5 for e in released)
    assert f.stopped


def test_token_filter_releases_held_tokens_at_the_end() -> None:
    f = TokenStopFilter(("\nUser:",))
    out = [e.text for e in f.feed(TokenEvent("ok\nUs", 1))]
    assert out == []  # held: it could be a stop
    assert [e.text for e in f.flush()] == ["ok\nUs"]


def test_empty_partial_utf8_tokens_pass_through() -> None:
    f = TokenStopFilter(())
    assert [e.token_id for e in f.feed(TokenEvent("", 7))] == [7]

"""Human-readable sizes and counts."""

from __future__ import annotations

import pytest

from desktop.core.formatting import format_bytes, format_count, format_count_exact


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 KB"),
        (1049, "1.0 KB"),
        (99_949, "99.9 KB"),
        (99_950, "100 KB"),
        (999_499, "999 KB"),
        (999_500, "1.0 MB"),  # rounding up never shows "1000 KB"
        (144_495_168, "144 MB"),
        (4_920_000_000, "4.9 GB"),
        (10**18, "1000 PB"),  # largest unit keeps growing
        (-2048, "-2.0 KB"),
    ],
)
def test_format_bytes(n: int, text: str) -> None:
    assert format_bytes(n) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"),
        (950, "950"),
        (1000, "1.0K"),
        (1234, "1.2K"),
        (123_200, "123K"),
        (999_960, "1.0M"),
        (1_234_567, "1.2M"),
        (134_515_008, "135M"),
        (7_241_732_096, "7.2B"),
        (-1500, "-1.5K"),
    ],
)
def test_format_count(n: int, text: str) -> None:
    assert format_count(n) == text


def test_format_count_exact() -> None:
    assert format_count_exact(1_234_567) == "1.2M (1,234,567)"
    assert format_count_exact(999) == "999"

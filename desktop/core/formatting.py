"""Numbers for people: "144.5 MB", "1.2M (1,234,567)".

Decimal units (1 KB = 1000 bytes), as the Hugging Face Hub and model cards use, so a size
here matches the size on the download page.
"""

from __future__ import annotations

_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")
_COUNT_UNITS = ("", "K", "M", "B", "T")


def _scaled(value: float, units: tuple[str, ...]) -> tuple[str, str]:
    """One decimal below 100, none above; rounding up to 1000 moves to the next unit."""
    for i, unit in enumerate(units):
        text = f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
        if float(text) < 1000 or i == len(units) - 1:
            return text, unit
        value /= 1000
    raise AssertionError("unreachable")


def format_bytes(n: int) -> str:
    if n < 0:
        return "-" + format_bytes(-n)
    if n < 1000:
        return f"{n} B"
    text, unit = _scaled(n / 1000, _BYTE_UNITS[1:])
    return f"{text} {unit}"


def format_count(n: int) -> str:
    """Short form: 950, 1.2K, 135M, 7.0B (B is billions here, as in "7B model")."""
    if n < 0:
        return "-" + format_count(-n)
    if n < 1000:
        return str(n)
    text, unit = _scaled(n / 1000, _COUNT_UNITS[1:])
    return f"{text}{unit}"


def format_count_exact(n: int) -> str:
    """Short form plus the exact number, for places where both matter (parameter counts)."""
    short = format_count(n)
    return short if abs(n) < 1000 else f"{short} ({n:,})"


def format_duration(seconds: float) -> str:
    """ "45 s", "3 min 05 s", "2 h 07 min": what an ETA needs, no more."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"

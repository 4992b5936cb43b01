"""How a token view looks and where its tokens are: the colour formats (a palette of
pastels, partial-character and control-token variants) and the geometry of token spans in
a laid-out document (UTF-16 positions, per-line rectangles)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QTextBlock, QTextCharFormat, QTextLayout, QTextLine

from desktop.core.tokens.display import IntArray, TokenDisplay

# Neighbours differ in lightness as well as in hue: light and mid tints alternate, so two
# tokens side by side stay apart for colour-blind eyes, on a washed-out projector and in
# grey; text on them stays dark whatever the style.
PALETTE = (
    "#FFE3E3",  # rose, light
    "#9FD8B0",  # green, mid
    "#E9E1FF",  # lavender, light
    "#F7B97A",  # orange, mid
    "#D9F1F5",  # aqua, light
    "#B9A6E8",  # purple, mid
    "#FFF4BF",  # lemon, light
    "#8FC1E8",  # blue, mid
)
TEXT_COLOUR = "#1A1A1A"
PARTIAL_TEXT_COLOUR = "#5A5F66"  # bytes of a split character: grey italic, dotted line
SPECIAL_BACKGROUND = "#37474F"  # control tokens stand out: dark slate, white bold
SPECIAL_TEXT_COLOUR = "#FFFFFF"
MARKER_COLOUR = "#8A9099"  # ·, → and ↵ when whitespace is shown: visible but quiet
HIGHLIGHT_BACKGROUND = "#FFB300"
HIGHLIGHT_OUTLINE = "#C62828"


def token_formats() -> list[QTextCharFormat]:
    """Palette formats, then their partial-token variants, then the special format."""
    whole, partial = [], []
    for colour in PALETTE:
        plain = QTextCharFormat()
        plain.setBackground(QColor(colour))
        plain.setForeground(QColor(TEXT_COLOUR))
        whole.append(plain)
        split = QTextCharFormat(plain)
        split.setForeground(QColor(PARTIAL_TEXT_COLOUR))
        split.setFontItalic(True)
        split.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        split.setUnderlineColor(QColor(PARTIAL_TEXT_COLOUR))
        partial.append(split)
    special = QTextCharFormat()
    special.setBackground(QColor(SPECIAL_BACKGROUND))
    special.setForeground(QColor(SPECIAL_TEXT_COLOUR))
    special.setFontWeight(QFont.Weight.Bold)
    return [*whole, *partial, special]


def format_range(start: int, length: int, fmt: QTextCharFormat) -> QTextLayout.FormatRange:
    r = QTextLayout.FormatRange()
    r.start = start
    r.length = length
    r.format = fmt
    return r


def span_rects(block: QTextBlock, start: int, end: int, origin: QPointF) -> list[QRectF]:
    """The rectangles of document span [start, end) within `block`, one per line."""
    layout = block.layout()
    base = block.position()
    text_end = base + block.length() - 1  # where the block's line break is
    first, last = max(start, base) - base, min(end, text_end) - base
    rects: list[QRectF] = []
    for n in range(layout.lineCount()):
        line = layout.lineAt(n)
        low = max(first, line.textStart())
        high = min(last, line.textStart() + line.textLength())
        if high > low:
            x1, x2 = line_x(line, low), line_x(line, high)
            rects.append(QRectF(min(x1, x2), line.y(), abs(x2 - x1), line.height()))
    if not rects and start <= text_end < end and layout.lineCount():
        line = layout.lineAt(layout.lineCount() - 1)  # a token that is only a line break:
        rects.append(QRectF(line_x(line, text_end - base), line.y(), 6.0, line.height()))  # a stub
    return [rect.translated(origin) for rect in rects]


def line_x(line: QTextLine, position: int) -> float:
    # PySide6 returns (x, position) but types it as `object`
    result: tuple[float, int] = line.cursorToX(position)  # type: ignore[assignment]
    return float(result[0])


def document_spans(display: TokenDisplay) -> tuple[IntArray, IntArray]:
    """The tokens' spans in document positions (UTF-16 units, "\\r\\n" as one break)."""
    text = display.text
    if "\r\n" not in text and (
        text.isascii() or len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text)
    ):
        return display.starts, display.ends
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    extra = (codes > 0xFFFF).astype(np.int64)  # a surrogate pair: two positions
    extra[:-1] -= (codes[:-1] == 13) & (codes[1:] == 10)  # "\r\n": one block break
    shift = np.concatenate(([0], np.cumsum(extra))).astype(np.int64)
    return display.starts + shift[display.starts], display.ends + shift[display.ends]

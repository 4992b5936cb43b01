"""A read-only view of tokenized text: one coloured span per token, fast for 1 MB.

The whole display string goes in with `setPlainText` (QPlainTextEdit lays out lazily,
block by block), and colours are applied only to the blocks on screen, just before they
are painted, as `QTextLayout` format ranges: no HTML, no char-format edits to the
document, no up-front pass over 250 000 tokens. Each block is formatted once per display.

Positions in the view are UTF-16 units of the document, which differ from `display`'s
code-point indices when the text has characters outside the BMP (whole emoji tokens) or
"\\r\\n" (which the document stores as one block break): then the spans are mapped once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QTextBlock,
    QTextCharFormat,
    QTextCursor,
    QTextLayout,
    QTextLine,
    QTextOption,
)
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QTextEdit, QToolTip, QWidget

from desktop.core.tokens.display import NEWLINE, SPACE, TAB, IntArray, TokenDisplay
from desktop.ui.tokens.token_formats import (
    HIGHLIGHT_BACKGROUND,
    HIGHLIGHT_OUTLINE,
    MARKER_COLOUR,
    PALETTE,
    TEXT_COLOUR,
    document_spans,
    format_range,
    line_x,
    span_rects,
    token_formats,
)
from desktop.ui.widgets.plain_text import plain_tooltip

_MARKERS = re.compile(f"[{SPACE}{TAB}{NEWLINE}]")
_BYTES_SHOWN = re.compile(r"‹[0-9A-F ]*›")


class TokenView(QPlainTextEdit):
    token_hovered = Signal(int)  # token index under the mouse, -1 when none
    token_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setTabChangesFocus(True)  # read-only: Tab moves on
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        # a 300-character URL token must wrap too, not run off the right edge
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.viewport().setMouseTracking(True)
        self._display: TokenDisplay | None = None
        self._starts: IntArray = np.zeros(0, dtype=np.int64)  # document positions
        self._ends: IntArray = np.zeros(0, dtype=np.int64)
        self._styles: IntArray = np.zeros(0, dtype=np.int64)  # index into _formats
        self._formats = token_formats()
        self._marker_format = QTextCharFormat()
        self._marker_format.setForeground(QColor(MARKER_COLOUR))
        self._formatted: set[int] = set()  # block numbers whose layout has its formats
        self._hovered = -1
        self._highlighted = -1
        self._pressed = -1
        self._press_pos = QPoint()

    # --- content ---

    def set_display(self, display: TokenDisplay) -> None:
        """Show `display`, replacing everything (formats, highlight, hover)."""
        self._display = display
        self._starts, self._ends = document_spans(display)
        n = len(display)
        styles = np.arange(n, dtype=np.int64) % len(PALETTE)
        styles[display.partial] += len(PALETTE)
        styles[display.special] = 2 * len(PALETTE)
        self._styles = styles
        self._formatted = set()
        self._highlighted = -1
        self._pressed = -1
        self.setExtraSelections([])
        self.setPlainText(display.text)  # new blocks: their layouts have no formats yet
        self._set_hovered(-1)

    def display(self) -> TokenDisplay | None:
        return self._display

    def token_colour(self, index: int) -> QColor:
        """The background token `index` is painted on."""
        return self._formats[int(self._styles[index])].background().color()

    def token_format(self, index: int) -> QTextCharFormat:
        return QTextCharFormat(self._formats[int(self._styles[index])])

    def token_span(self, index: int) -> tuple[int, int]:
        """Token `index`'s (start, end) as document positions (QTextCursor positions)."""
        return int(self._starts[index]), int(self._ends[index])

    def token_at_position(self, position: int) -> int:
        """The token covering document position `position`, or -1."""
        index = int(np.searchsorted(self._ends, position, side="right"))
        if index < len(self._ends) and self._starts[index] <= position:
            return index
        return -1

    def token_under(self, point: QPoint) -> int:
        """The token drawn under viewport point `point`, or -1 (margins, past a line's end)."""
        position = self._position_at(QPointF(point))
        return -1 if position < 0 else self.token_at_position(position)

    def token_bytes(self, index: int) -> bytes:
        assert self._display is not None
        return self._display.token_bytes(index)

    def tooltip(self, index: int) -> str:
        assert self._display is not None
        display = self._display
        piece = self.token_bytes(index)
        lines = [
            f"token {index}   id {int(display.ids[index])}",
            "bytes: " + (piece.hex(" ").upper() or "(none)"),
            "text: ‹bytes›" if display.partial[index] else f"text: {piece.decode()!r}",
        ]
        if display.special[index]:
            lines.append("special")
        return "\n".join(lines)

    # --- highlight ---

    @Slot(int)
    def highlight(self, index: int) -> None:
        """Outline token `index` (say, picked in a table elsewhere) and scroll it into
        view; -1 clears. The text cursor moves, but no selection is made."""
        if self._display is None or not 0 <= index < len(self._display):
            index = -1
        self._highlighted = index
        if index < 0:
            self.setExtraSelections([])
            self.viewport().update()
            return
        start, end = self.token_span(index)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = QTextCursor(self.document())
        selection.cursor.setPosition(start)
        selection.cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        emphasis = QTextCharFormat()
        emphasis.setBackground(QColor(HIGHLIGHT_BACKGROUND))
        emphasis.setForeground(QColor(TEXT_COLOUR))
        selection.format = emphasis
        self.setExtraSelections([selection])
        cursor = QTextCursor(self.document())
        cursor.setPosition(end)  # first the end, then the start: the whole token shows
        self.setTextCursor(cursor)
        self.ensureCursorVisible()
        cursor.setPosition(start)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()
        self.viewport().update()

    def highlighted(self) -> int:
        return self._highlighted

    # --- lazy formatting and painting ---

    def formatted_blocks(self) -> frozenset[int]:
        """Numbers of the blocks given their token colours so far (for tests)."""
        return frozenset(self._formatted)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._format_visible_blocks()
        super().paintEvent(event)
        if self._highlighted >= 0:
            painter = QPainter(self.viewport())
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(HIGHLIGHT_OUTLINE), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for rect in self._token_rects(self._highlighted):
                painter.drawRoundedRect(rect.adjusted(-1, 0, 1, 0), 2, 2)
            painter.end()

    def _format_visible_blocks(self) -> None:
        if self._display is None:
            return
        for block, _top in self._visible_blocks():
            number = block.blockNumber()
            if number not in self._formatted:
                self._formatted.add(number)
                self._format_block(block)

    def _visible_blocks(self) -> Iterator[tuple[QTextBlock, float]]:
        """The blocks on screen, top to bottom, with their top edge in the viewport.

        Each block is measured after the caller is done with it (formatting can change
        its height). Only these blocks are ever laid out for painting: asking the view for
        the geometry of a block far off screen would lay out every block in between.
        """
        block = self.firstVisibleBlock()
        top = self.blockBoundingGeometry(block).translated(self.contentOffset()).top()
        bottom = self.viewport().height()
        while block.isValid() and top <= bottom:
            yield block, top
            top += self.blockBoundingRect(block).height()
            block = block.next()

    def _format_block(self, block: QTextBlock) -> None:
        begin = block.position()
        end = begin + block.length() - 1  # the block break is not drawn
        first = int(np.searchsorted(self._ends, begin, side="right"))
        last = int(np.searchsorted(self._starts, end, side="left"))
        starts = (np.maximum(self._starts[first:last], begin) - begin).tolist()
        ends = (np.minimum(self._ends[first:last], end) - begin).tolist()
        styles = self._styles[first:last].tolist()
        ranges: list[QTextLayout.FormatRange] = []
        for start, stop, style in zip(starts, ends, styles, strict=True):
            if stop > start:
                ranges.append(format_range(start, stop - start, self._formats[style]))
        # later ranges win where they overlap: the markers' grey goes over the tokens'
        for marker in _MARKERS.finditer(block.text()):
            ranges.append(format_range(marker.start(), 1, self._marker_format))
        if not ranges:
            return
        block.layout().setFormats(ranges)
        # As QSyntaxHighlighter does: re-lay the block out now (bold and italic change
        # widths) and close the document's change record. The document layout then asks
        # for one more paint of this block, which finds it formatted: no loop.
        self.document().markContentsDirty(begin, block.length())

    def _token_rects(self, index: int) -> list[QRectF]:
        """Where token `index` is drawn on screen, one rectangle per line (viewport)."""
        start, end = self.token_span(index)
        rects: list[QRectF] = []
        left = self.contentOffset().x()
        for block, top in self._visible_blocks():
            if block.position() >= end:
                break
            if block.position() + block.length() > start:
                rects.extend(span_rects(block, start, end, QPointF(left, top)))
        return rects

    def _position_at(self, point: QPointF) -> int:
        """The document position of the character drawn under `point`, or -1."""
        block = self.cursorForPosition(point.toPoint()).block()
        geometry = self.blockBoundingGeometry(block).translated(self.contentOffset())
        if not block.isValid() or not geometry.contains(point):
            return -1
        local = point - geometry.topLeft()
        layout = block.layout()
        for n in range(layout.lineCount()):
            line = layout.lineAt(n)
            if line.y() <= local.y() < line.y() + line.height():
                end = line.textStart() + line.textLength()  # trailing spaces included
                if not line.x() <= local.x() < line_x(line, end):
                    return -1
                at = line.xToCursor(local.x(), QTextLine.CursorPosition.CursorOnCharacter)
                return block.position() + max(line.textStart(), min(at, end - 1))
        return -1

    # --- mouse ---

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        index = self.token_under(event.position().toPoint())
        if index != self._hovered:
            self._set_hovered(index)
            if index >= 0:
                tip = plain_tooltip(self.tooltip(index))  # a vocabulary's pieces are any text
                QToolTip.showText(event.globalPosition().toPoint(), tip, self)
            else:
                QToolTip.hideText()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_pos = event.position().toPoint()
            self._pressed = self.token_under(self._press_pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position().toPoint()
        moved = (pos - self._press_pos).manhattanLength() >= QApplication.startDragDistance()
        index = self.token_under(pos)
        if index >= 0 and index == self._pressed and not moved:  # a click, not a drag
            self.token_clicked.emit(index)
        self._pressed = -1

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self._set_hovered(-1)
        return super().viewportEvent(event)

    def _set_hovered(self, index: int) -> None:
        if index != self._hovered:
            self._hovered = index
            self.token_hovered.emit(index)

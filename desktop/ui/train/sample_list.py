"""The samples a model writes as it trains, newest first: each a bold header line (step,
share copied from the data) above the text itself, kept as written — its line breaks,
its indentation, and bytes that are not UTF-8 shown as `‹F0 9F›` (done in core).

A list item's text is "header\\ntext"; a delegate draws it as a small rich-text block
(one cached layout per item and width: a run of thousands of steps keeps ~100 samples).
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPainter, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

MAX_SAMPLES = 100  # older ones stay in the run's history, not on screen
HEADER_COLOUR = "#505050"
_SAMPLE_ROLE = Qt.ItemDataRole.UserRole
Index = QModelIndex | QPersistentModelIndex


def sample_header(step: int, copied: float | None) -> str:
    share = f" · {copied:.0%} copied" if copied is not None else ""
    return f"step {step}{share}"


# Control characters other than newline and tab: a young model writes them, and a font
# draws them as empty boxes; shown as their bytes instead, as the Tokens tab shows bytes.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def visible_text(text: str) -> str:
    return _CONTROL.sub(lambda m: f"‹{ord(m.group()):02X}›", text)


def sample_html(header: str, text: str) -> str:
    text = visible_text(text)
    body = html.escape(text) if text.strip() else "<i>(only whitespace)</i>"
    return (f'<div style="color:{HEADER_COLOUR}; font-weight:600">{html.escape(header)}</div>'
            f'<div style="white-space:pre-wrap; font-family:monospace">{body}</div>')  # fmt: skip


class SampleList(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)  # new widths: heights recomputed
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setItemDelegate(_SampleDelegate(self))

    def add_sample(self, step: int, text: str, copied: float | None) -> None:
        header = sample_header(step, copied)
        item = QListWidgetItem(f"{header}\n{visible_text(text)}")
        item.setData(_SAMPLE_ROLE, sample_html(header, text))
        self.insertItem(0, item)
        while self.count() > MAX_SAMPLES:
            self.takeItem(self.count() - 1)


class _SampleDelegate(QStyledItemDelegate):
    def __init__(self, view: SampleList) -> None:
        super().__init__(view)
        self._view = view
        self._layouts: dict[tuple[str, int], QTextDocument] = {}

    def _document(self, index: Index, width: int) -> QTextDocument:
        markup = str(index.data(_SAMPLE_ROLE) or html.escape(str(index.data())))
        key = (markup, width)
        document = self._layouts.get(key)
        if document is None:
            if len(self._layouts) > 4 * MAX_SAMPLES:  # widths change on resizes
                self._layouts.clear()
            document = QTextDocument()
            document.setDefaultFont(self._view.font())
            document.setDocumentMargin(6)
            document.setHtml(markup)
            document.setTextWidth(width)
            self._layouts[key] = document
        return document

    def _width(self) -> int:
        return max(80, self._view.viewport().width())

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        document = self._document(index, self._width())
        return QSize(self._width(), int(document.size().height()) + 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        self.initStyleOption(option, index)
        option.text = ""  # the background and selection only; the document draws the text
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        document = self._document(index, self._width())
        painter.save()
        painter.translate(option.rect.topLeft())
        painter.setClipRect(0, 0, option.rect.width(), option.rect.height())
        document.drawContents(painter)
        painter.restore()

"""The read-only view of a message's text: as tall as its text (the transcript scrolls, not
it), links that open only through `open_reply_link`, and no resources read from anywhere.

QTextBrowser would follow a link itself (a relative path or `file:` URL replaced the view
with that local file; `file:///dev/zero` ended the app) and load the images a reply names
(`![x](file:///etc/passwd)` reads the file). Both are switched off here: links go to our
handler, and every resource request gets a placeholder, so nothing is read from disk.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QUrl
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPainter, QTextDocument
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QToolTip

from desktop.core.chat.reply_links import link_tooltip
from desktop.ui.chat.link_opening import open_reply_link
from desktop.ui.widgets.plain_text import NO_HTML_MARKDOWN, plain_tooltip

NOT_LOADED = "image not loaded"


def placeholder_image() -> QImage:
    """What a reply's image shows instead of its picture: a small grey box that says so."""
    image = QImage(QSize(120, 20), QImage.Format.Format_ARGB32)
    image.fill(QColor("#eeeeee"))
    painter = QPainter(image)
    painter.setPen(QColor("#777777"))
    painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, NOT_LOADED)
    painter.end()
    return image


class ReplyBrowser(QTextBrowser):
    def __init__(self) -> None:
        super().__init__()
        self.setOpenLinks(False)  # never navigate: anchorClicked goes to open_reply_link
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(lambda url: open_reply_link(self, url))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.viewport().installEventFilter(self)
        self._placeholder: QImage | None = None

    def set_markdown(self, text: str) -> None:
        """Markdown without raw HTML: a reply's `<img>`, `<style>` or 40 px red banner is
        shown as the text it is."""
        self.document().setMarkdown(text, NO_HTML_MARKDOWN)

    def loadResource(self, kind: int, name: QUrl | str) -> Any:
        # Never None: QTextDocument would then read the file itself.
        if kind == QTextDocument.ResourceType.ImageResource.value:
            if self._placeholder is None:
                self._placeholder = placeholder_image()
            return self._placeholder
        return b""

    def _fit(self) -> None:
        height = int(self.document().size().height()) + 4
        if self.height() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event: QEvent) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        # Only when the width changed: setTextWidth lays the whole document out again even
        # for the same width, and every height change from _fit comes back here.
        width = self.viewport().width()
        if self.document().textWidth() != width:
            self.document().setTextWidth(width)
        self._fit()

    def tooltip_at(self, pos: QPoint) -> str:
        """The tooltip of the text under `pos`: a link's address and what clicking does, or
        a token's probabilities (token probabilities put one on each token)."""
        href = self.anchorAt(pos)
        if href:
            return link_tooltip(href)
        return self.cursorForPosition(pos).charFormat().toolTip()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self.tooltip_at(event.pos())
            if tip:
                QToolTip.showText(event.globalPos(), plain_tooltip(tip), self)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)

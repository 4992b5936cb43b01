"""A label for messages whose length nobody controls: errors, statuses, model metadata.

A QLabel asks its layout for room for its longest unbreakable run (a path, a URL, an
exception's text); the window then grows past the screen until the message goes away.
This one wraps at spaces and never asks for more width than it is given: a run longer
than the line is cut at the edge, and the whole text is in the tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from desktop.ui.widgets.plain_text import plain_tooltip

LONG = 120  # characters: longer messages also go in the tooltip


class MessageLabel(QLabel):
    def __init__(
        self, text: str = "", parent: QWidget | None = None, *, plain: bool = False
    ) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        policy = self.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.setSizePolicy(policy)
        self.setMinimumWidth(40)
        if plain:  # model-written or file-read text: never interpreted as HTML
            self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.minimumWidth(), super().minimumSizeHint().height())

    def setText(self, text: str) -> None:
        super().setText(text)
        # as text: Qt would render a tooltip that merely looks like HTML
        self.setToolTip(plain_tooltip(self._plain(text)) if len(text) > LONG else "")

    def _plain(self, text: str) -> str:
        if self.textFormat() == Qt.TextFormat.PlainText:
            return text
        from PySide6.QtGui import QTextDocumentFragment

        return QTextDocumentFragment.fromHtml(text).toPlainText()

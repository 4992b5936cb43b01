"""The documents attached to the open conversation, as removable chips above the message
box, and the one-line reminder of why: rereading beats remembering (the Quiz tab measures
it, closed book against open book)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QToolButton, QWidget

from desktop.core.documents.document import Document
from desktop.ui.widgets.plain_text import plain_tooltip

OPEN_BOOK_HINT = (
    "The model reads these before your question: rereading beats remembering. The Quiz "
    "tab's closed- vs open-book chart is the measured version of this."
)


class DocumentChip(QFrame):
    remove_requested = Signal(int)  # the document's id

    def __init__(self, document: Document) -> None:
        super().__init__()
        self.document = document
        self.setObjectName("chip")
        self.setStyleSheet("QFrame#chip { background: #e8eef8; border-radius: 10px; }")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 1, 2, 1)
        name = QLabel(document.name)
        name.setTextFormat(Qt.TextFormat.PlainText)  # a file name is never markup
        name.setToolTip(plain_tooltip(f"{document.title}\n{document.size_label}"))
        self.remove_button = QToolButton()
        self.remove_button.setText("×")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip("Remove this document from the conversation")
        self.remove_button.setAccessibleName(f"Remove {document.name}")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(document.id))
        row.addWidget(name)
        row.addWidget(self.remove_button)


class DocumentChips(QScrollArea):
    """A row that scrolls sideways when full: many chips never widen the window."""

    remove_requested = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(34)
        inner = QWidget()
        self._row = QHBoxLayout(inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self.hint = QLabel("Why documents?")
        self.hint.setStyleSheet("color: #555; text-decoration: underline dotted;")
        self.hint.setToolTip(OPEN_BOOK_HINT)
        self._row.addWidget(self.hint)
        self._row.addStretch(1)
        self.setWidget(inner)
        self.chips: list[DocumentChip] = []
        self.hide()

    def set_documents(self, documents: Sequence[Document]) -> None:
        for chip in self.chips:
            chip.setParent(None)
            chip.deleteLater()
        self.chips = []
        for document in documents:
            chip = DocumentChip(document)
            chip.remove_requested.connect(self.remove_requested)
            self._row.insertWidget(self._row.count() - 2, chip)
            self.chips.append(chip)
        self.setVisible(bool(self.chips))

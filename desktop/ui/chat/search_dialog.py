"""Search the local collection yourself — the attached documents, the Quiz articles and
the folders you add — and quote the passages you pick into your message, with their ids.
The same search the model calls as a tool; it runs off the GUI thread (a folder is read
and indexed the first time)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.documents.bm25 import Ranked
from desktop.core.documents.collection import SearchCollection
from desktop.engine.jobs import Jobs
from desktop.engine.tool_runner import CollectionCache
from desktop.ui.chat.attachments import Attachments

RESULTS = 8


class SearchDialog(QDialog):
    quote_requested = Signal(str)

    def __init__(self, attachments: Attachments, collections: CollectionCache,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle("Search the local documents")
        self.attachments = attachments
        self.collections = collections
        self.query = QLineEdit()
        self.query.setPlaceholderText("What to look for…")
        self.query.setAccessibleName("Search query")
        self.search_button = QPushButton("Search")
        self.folder_button = QPushButton("Add a folder…")
        self.about = QLabel()
        self.about.setTextFormat(Qt.TextFormat.PlainText)
        self.about.setWordWrap(True)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setSpacing(4)
        self.results.setAccessibleName("Passages found")
        self.results.setAlternatingRowColors(True)  # where one passage ends
        self.results.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.quote_button = QPushButton("Quote the selected passages in my message")
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(self.search_button)
        row.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.about)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.quote_button)
        self.search_button.clicked.connect(self.search)
        self.query.returnPressed.connect(self.search)
        self.folder_button.clicked.connect(self._add_folder)
        self.quote_button.clicked.connect(self._quote)
        self.jobs = Jobs(self)  # kind: "search": a newer search replaces the older
        self.hits: list[Ranked] = []
        self._say_sources()
        self.resize(640, 480)

    def setText(self, text: str) -> None:
        self.query.setText(text)

    def _say_sources(self) -> None:
        folders = ", ".join(self.attachments.folders) or "no folder"
        count = len(self.attachments.documents)
        self.about.setText(f"Searches {count} attached document(s), the Quiz articles and "
                           f"{folders}.")  # fmt: skip

    @Slot()
    def search(self) -> None:
        query = self.query.text().strip()
        if not query:
            return
        sources, cache = self.attachments.sources(), self.collections
        self.about.setText("Searching…")
        self.jobs.start("search", lambda _c: (cache.get(sources), query), done=self._on_found)

    def _on_found(self, found: tuple[SearchCollection, str]) -> None:
        collection, query = found
        self.hits = collection.search(query, RESULTS)
        self.results.clear()
        for hit in self.hits:
            passage = hit.passage
            item = QListWidgetItem(f"[{passage.id}] {passage.title} ({passage.source})\n"
                                   f"{passage.text}")  # fmt: skip
            self.results.addItem(item)  # list items are plain text
        problems = (
            f" Left out: {'; '.join(collection.problems[:3])}." if collection.problems else ""
        )
        self.about.setText(f"{len(self.hits)} passage(s) for “{query}” among "
                           f"{collection.summary}.{problems}")  # fmt: skip

    @Slot()
    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to search")
        if folder:
            self.attachments.add_folder(folder)
            self._say_sources()

    @Slot()
    def _quote(self) -> None:
        rows = sorted(self.results.row(i) for i in self.results.selectedItems())
        chosen = [self.hits[r].passage for r in rows if r < len(self.hits)]
        if chosen:
            self.quote_requested.emit("\n\n".join(f"[{p.id}] {p.text}" for p in chosen))
            self.accept()

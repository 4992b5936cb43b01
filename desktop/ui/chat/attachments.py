"""Documents attached to the open conversation: picked in a file dialog, read off the GUI
thread (a large or hostile file takes a moment and may be refused with a sentence), stored,
shown as chips and handed to each request. Also what the search tool searches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.core.documents.collection import CollectionSources
from desktop.core.documents.document import ACCEPTED, Document, DocumentError, read_document
from desktop.core.quiz.articles import SUFFIXES
from desktop.core.storage.conversations import ConversationStore
from desktop.engine.background import JobControl
from desktop.engine.jobs import Jobs
from desktop.ui.chat.document_chips import DocumentChips

FILTER = f"Documents ({' '.join('*' + s for s in ACCEPTED)})"


class Attachments(QObject):
    def __init__(self, store: ConversationStore, chips: DocumentChips,
                 conversation: Callable[[], int | None], say: Callable[[str], None],
                 parent: QWidget) -> None:  # fmt: skip
        super().__init__(parent)
        self.store = store
        self.chips = chips
        self.conversation = conversation
        self.say = say
        self.folders: tuple[str, ...] = ()
        self.documents: tuple[Document, ...] = ()
        self.jobs = Jobs(self)  # kind: "read"
        self._parent = parent
        chips.remove_requested.connect(self.remove)

    def reload(self) -> None:
        conversation = self.conversation()
        self.documents = tuple(self.store.documents.list(conversation)) if conversation else ()
        self.chips.set_documents(self.documents)

    def sources(self) -> CollectionSources:
        return CollectionSources(self.documents, True, self.folders)

    @Slot()
    def choose(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self._parent, "Attach documents", "", FILTER)
        if paths:
            self.attach(paths)

    def attach(self, paths: list[str]) -> None:
        """Read the files in the background, then store those that could be read."""
        self.say(f"Reading {len(paths)} document(s)…")
        self.jobs.start("read", lambda control: _read_all(paths, control), done=self._on_read)

    def _on_read(self, read: tuple[list[Document], list[str]]) -> None:
        self.add(*read)

    def add(self, documents: list[Document], problems: list[str] | None = None) -> None:
        """Store `documents` with the open conversation and say what happened."""
        problems = list(problems or [])
        conversation = self.conversation()
        if conversation is None:
            return
        for document in documents:
            try:
                self.store.documents.add(conversation, document)
            except (DocumentError, OSError) as exc:
                problems.append(str(exc))
            except Exception as exc:  # a full disk, a read-only database: said, not raised
                problems.append(f"{document.name} could not be saved ({exc})")
        self.reload()
        added = f"{len(documents)} document(s) attached" if documents else "Nothing attached"
        self.say("; ".join([added, *problems]) + ".")

    @Slot(int)
    def remove(self, document_id: int) -> None:
        try:
            self.store.documents.remove(document_id)
        except Exception as exc:  # a read-only database
            self.say(f"⚠ The document could not be removed ({exc}).")
        self.reload()

    def add_folder(self, folder: str) -> None:
        if folder and Path(folder).is_dir() and folder not in self.folders:
            self.folders = (*self.folders, folder)


def _read_all(paths: list[str], control: JobControl) -> tuple[list[Document], list[str]]:
    documents, problems = [], []
    for n, path in enumerate(paths):
        if control.cancelled():
            break
        control.progress(n, len(paths))
        if Path(path).suffix.lower() not in (*SUFFIXES, ".pdf"):
            problems.append(f"{Path(path).name}: not a text, Markdown or HTML file")
            continue
        try:
            documents.append(read_document(path))
        except DocumentError as exc:
            problems.append(str(exc))
    return documents, problems

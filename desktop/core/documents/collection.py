"""The local collection the search tool looks in: the conversation's documents, the Quiz
articles and any folder the person added — the offline form of "search the web to make
sure". Built once per set of sources (reading a folder takes a moment: do it off the GUI
thread), then searched in milliseconds.

Folders are read with the same limits as attached documents, and a bounded number of
files: a folder of a million files is a sentence, not an hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.documents.bm25 import PassageIndex, Ranked
from desktop.core.documents.document import Document, DocumentError, read_document
from desktop.core.documents.passages import passages_of
from desktop.core.quiz.articles import SUFFIXES, bundled_articles

MAX_FOLDER_FILES = 500
MAX_FOLDER_BYTES = 64 * 1024 * 1024
SEARCH_RESULTS = 4
ARTICLE_SOURCE = "Quiz article"


@dataclass(frozen=True)
class CollectionSources:
    documents: tuple[Document, ...] = ()
    articles: bool = True  # the Quiz tab's bundled articles
    folders: tuple[str, ...] = ()


@dataclass
class SearchCollection:
    index: PassageIndex
    problems: list[str] = field(default_factory=list)  # files left out, one sentence each
    summary: str = ""  # "41 passages from 7 files"

    def search(self, query: str, limit: int = SEARCH_RESULTS) -> list[Ranked]:
        return self.index.rank(query, limit)


def folder_files(folder: Path, problems: list[str]) -> list[Path]:
    """Readable text files under `folder`, within the limits (the rest said in problems)."""
    files: list[Path] = []
    total = 0
    try:
        candidates = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)
    except OSError as exc:
        problems.append(f"{folder}: cannot be read ({exc.strerror or exc})")
        return []
    for path in candidates:
        if len(files) >= MAX_FOLDER_FILES:
            problems.append(f"{folder}: only the first {MAX_FOLDER_FILES} files are searched")
            break
        try:
            if not path.is_file():
                continue
            total += path.stat().st_size
        except OSError:
            continue
        if total > MAX_FOLDER_BYTES:
            problems.append(f"{folder}: only the first {MAX_FOLDER_BYTES >> 20} MB are searched")
            break
        files.append(path)
    return files


def build_collection(sources: CollectionSources) -> SearchCollection:
    """Read and index every source; a file that cannot be read is left out and said."""
    problems: list[str] = []
    items: list[tuple[str, str, str]] = [(d.name, d.title, d.text) for d in sources.documents]
    if sources.articles:
        items += [(a.path.name if a.path else a.title, a.title, f"{a.title}\n\n{a.text}")
                  for a in bundled_articles()]  # fmt: skip
    for folder in sources.folders:
        for path in folder_files(Path(folder), problems):
            try:
                document = read_document(path)
            except DocumentError as exc:
                problems.append(str(exc))
                continue
            items.append((document.name, document.title, document.text))
    passages = passages_of(items)
    summary = f"{len(passages):,} passages from {len(items)} file{'s' * (len(items) != 1)}"
    return SearchCollection(PassageIndex(passages), problems, summary)


def search_result_text(query: str, hits: Sequence[Ranked]) -> str:
    """What the model reads back from a search: each passage with its id and source."""
    if not hits:
        return (f"No passage matches “{query}”. Try other words, or answer that the "
                "documents do not say.")  # fmt: skip
    lines = [f"Passages for “{query}” (cite the ids you use):"]
    for hit in hits:
        lines.append(f"[{hit.passage.id}] ({hit.passage.title}) {hit.passage.text}")
    return "\n\n".join(lines)

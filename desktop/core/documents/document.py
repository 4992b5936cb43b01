"""A document attached to a conversation: a name and its plain text.

Files are read the way the Quiz reads articles (desktop/core/quiz/articles.py: text,
Markdown and HTML to paragraphs; a size limit read before the bytes; binaries and unknown
encodings refused), so a hostile file gets a sentence and nothing else is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.core.quiz.articles import SUFFIXES, ArticleError, load_article

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024  # a long book is ~1-2 MB of text
MAX_DOCUMENTS = 20  # per conversation: chips stay readable, the index small


class DocumentError(ValueError):
    """A file that cannot be attached; the message is the sentence to show."""


@dataclass(frozen=True)
class Document:
    name: str  # the file's name, shown on its chip
    title: str  # its first heading, or the name made readable
    text: str  # paragraphs separated by blank lines
    source: str = ""  # where it was read from ("" when pasted)
    id: int = 0  # its row in the store (0: not stored)

    @property
    def size_label(self) -> str:
        chars = len(self.text)
        return f"{chars / 1000:.0f}K characters" if chars >= 10_000 else f"{chars:,} characters"


def read_document(path: str | Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    """The document in a file, or DocumentError with a sentence."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        raise DocumentError(f"{path.name}: PDF files cannot be attached yet; save the text "
                            "of the PDF as a .txt file and attach that.")  # fmt: skip
    try:
        article = load_article(path, max_bytes)
    except ArticleError as exc:
        raise DocumentError(str(exc)) from exc
    text = f"{article.title}\n\n{article.text}" if article.title else article.text
    return Document(path.name, article.title, text, str(path))


ACCEPTED = SUFFIXES  # what the file dialog offers

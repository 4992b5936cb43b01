"""Articles the quiz asks about: plain text out of .txt, .md and .html files.

The text keeps paragraph breaks (a blank line between blocks) because the cloze generator
and the model prompt both rely on them; a heading that opens the file becomes the title
and is left out of the text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from desktop.core.resources import resources_dir

MAX_BYTES = 2 * 1024 * 1024
SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
INVENTED_MARK = "<!-- invented -->"

Block = tuple[int, str]  # (heading level, or 0 for a paragraph; its plain text)


class ArticleError(ValueError):
    """A file that cannot be used as an article; the message is meant for the user."""


@dataclass(frozen=True)
class Article:
    title: str
    text: str
    path: Path | None = None
    invented: bool = False  # made up for the app, so no model can know it


def load_article(path: str | Path, max_bytes: int = MAX_BYTES) -> Article:
    """The article in a file, or ArticleError with a sentence (too big, binary, unknown
    encoding, no text). `max_bytes`: the Chat tab's documents may be larger."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ArticleError(f"{path.name}: unsupported file type (use {', '.join(SUFFIXES)})")
    raw = _decode(path, _read_bytes(path, max_bytes))
    # The mark sits near the top, so a sentence quoting it further down doesn't count.
    invented = INVENTED_MARK in "\n".join(raw.splitlines()[:5])
    if suffix in (".html", ".htm"):
        blocks, page_title = _html_blocks(raw)
    elif suffix == ".txt":
        blocks, page_title = _text_blocks(raw.replace(INVENTED_MARK, "")), ""
    else:
        blocks, page_title = _markdown_blocks(raw), ""
    title = _title(blocks, page_title, path)
    if blocks and blocks[0][0] and blocks[0][1] == title:
        blocks = blocks[1:]
    text = "\n\n".join(block for _, block in blocks)
    if not text.strip():
        raise ArticleError(f"{path.name} has no text")
    return Article(title=title, text=text, path=path, invented=invented)


def bundled_articles() -> list[Article]:
    folder = resources_dir() / "articles"
    if not folder.is_dir():
        return []
    articles = [load_article(p) for p in folder.iterdir() if p.suffix.lower() in SUFFIXES]
    return sorted(articles, key=lambda a: (a.title.casefold(), a.title))


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        if not path.exists():
            raise ArticleError(f"{path.name}: no such file")
        if not path.is_file():
            raise ArticleError(f"{path.name} is not a file")
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleError(f"{path.name} is {size:,} bytes, larger than the "
                               f"{_size(max_bytes)} allowed; use a shorter text")  # fmt: skip
        with path.open("rb") as file:  # no more than allowed, even if it grows meanwhile
            return file.read(max_bytes)
    except OSError as error:
        raise ArticleError(f"Cannot read {path.name}: {error.strerror or error}") from error


def _size(n: int) -> str:
    return f"{n / 2**20:.3g} MB" if n >= 2**20 else f"{n:,} bytes"


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)  # Notepad's "Unicode"; full of NUL bytes
    elif b"\x00" in data[:8192]:
        raise ArticleError(f"{path.name} looks like a binary file, not text")
    else:
        # cp1252 last: old Windows text files are common, and it decodes almost any byte
        # string, so the control-character check below is what catches binaries.
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f")
        if controls > max(2, len(text) // 100):
            break
        return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    raise ArticleError(f"{path.name} looks like a binary file or uses an unknown encoding")


def _title(blocks: list[Block], page_title: str, path: Path) -> str:
    h1 = next((text for level, text in blocks if level == 1), "")
    heading = next((text for level, text in blocks if level), "")
    if h1 or page_title or heading:
        return h1 or page_title or heading
    name = re.sub(r"[_\-\s]+", " ", path.stem).strip() or path.name
    return name[0].upper() + name[1:]


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _text_blocks(raw: str) -> list[Block]:
    # Soft-wrapped lines are kept; the cloze splitter treats a single newline as a space.
    paragraphs = (p.strip() for p in re.split(r"\n\s*\n", raw))
    return [(0, "\n".join(line.rstrip() for line in p.splitlines())) for p in paragraphs if p]


_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: keep the alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML tags
    (re.compile(r"`+([^`]+?)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # not snake_case
    (re.compile(r"~~(.+?)~~"), r"\1"),
]


def _inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return _clean(html.unescape(text))


def _markdown_blocks(raw: str) -> list[Block]:
    raw = re.sub(r"<!--.*?-->", "", raw, flags=re.S)
    blocks: list[Block] = []
    paragraph: list[str] = []
    in_fence = False

    def flush() -> None:
        text = _inline(" ".join(paragraph))
        if text:
            blocks.append((0, text))
        paragraph.clear()

    for line in raw.split("\n"):
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence  # code is not prose: the whole block is dropped
            continue
        if in_fence or _REFERENCE.match(line) or _TABLE_RULE.match(line):
            continue
        heading = _HEADING.match(line)
        if _SETEXT.match(line) and paragraph:  # "Title" underlined with === or ---
            level = 1 if line.strip().startswith("=") else 2
            text = _inline(" ".join(paragraph))
            paragraph.clear()
            if text:
                blocks.append((level, text))
        elif heading:
            flush()
            if text := _inline(heading.group(2)):
                blocks.append((len(heading.group(1)), text))
        elif not line.strip() or _RULE.match(line):
            flush()
        else:
            line = re.sub(r"^\s*(>\s*)+", "", line)
            if _ITEM.match(line):
                flush()  # each list item is a block of its own
                line = _ITEM.sub("", line)
            if line.strip().startswith("|"):
                flush()
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                line = ", ".join(c for c in cells if c)
            paragraph.append(line.strip())
    flush()
    return blocks


class _HTMLText(HTMLParser):
    # Not "head": its end tag may be left out, which would swallow the whole page.
    SKIP = frozenset({"script", "style", "nav", "noscript", "template", "svg"})
    BLOCK = re.compile(
        r"p|div|br|li|ul|ol|h[1-6]|tr|table|section|article|blockquote|pre|dd|dt|dl"
        r"|figcaption|header|footer|main|aside|hr|form"
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.page_title = ""
        self._parts: list[str] = []
        self._level = 0
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip_depth += 1
        elif self.BLOCK.fullmatch(tag):
            self._flush()
            if re.fullmatch(r"h[1-6]", tag):
                self._level = int(tag[1])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.BLOCK.fullmatch(tag):
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif self.BLOCK.fullmatch(tag):
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title = _clean(self.page_title + " " + data)
        elif not self._skip_depth:
            self._parts.append(data)

    def _flush(self) -> None:
        text = _clean("".join(self._parts))
        if text:
            self.blocks.append((self._level, text))
        self._parts.clear()
        self._level = 0


def _html_blocks(raw: str) -> tuple[list[Block], str]:
    parser = _HTMLText()
    parser.feed(raw)
    parser.close()
    parser._flush()
    return parser.blocks, parser.page_title

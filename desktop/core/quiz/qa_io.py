"""Question/answer files: JSON Lines or CSV, chosen by the file's suffix.

JSONL: one {"question": ..., "answer": ..., "source": ...} object per line.
CSV: a header row naming question and answer (and optionally source) columns.
Files written here keep each pair's source; pairs from elsewhere become "import".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast, get_args

from desktop.core.atomic_files import write_text_atomically
from desktop.core.quiz.qa import QAPair, QASource

SUFFIXES = (".jsonl", ".csv")
_SOURCES: frozenset[str] = frozenset(get_args(QASource))


class QAFileError(ValueError):
    """A question file that cannot be read or written; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


def write_pairs(path: str | Path, pairs: Iterable[QAPair]) -> None:
    path = Path(path)
    kind = _kind(path)
    if kind == "jsonl":
        rows = (
            json.dumps(
                {"question": p.question, "answer": p.answer, "source": p.source},
                ensure_ascii=False,
            )
            for p in pairs
        )
        text = "".join(f"{row}\n" for row in rows)
    else:
        buffer = io.StringIO()
        # "\n" rather than csv's "\r\n": the text is written as is, and a newline inside a
        # quoted field is "\n" too, so the file has one kind of line ending.
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["question", "answer", "source"])
        writer.writerows([p.question, p.answer, p.source] for p in pairs)
        text = buffer.getvalue()
    try:
        write_text_atomically(path, text)
    except OSError as error:
        raise QAFileError(f"Cannot write {path.name}: {error.strerror or error}") from error


def read_pairs(path: str | Path) -> list[QAPair]:
    path = Path(path)
    kind = _kind(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise QAFileError(f"Cannot read {path.name}: {error.strerror or error}") from error
    try:
        text = data.decode("utf-8-sig")  # -sig: Excel and Notepad start the file with a BOM
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise QAFileError(f"{path.name} is not UTF-8 text", line) from error
    return _read_jsonl(text) if kind == "jsonl" else _read_csv(text)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise QAFileError(f"{path.name}: use a .jsonl or .csv file")
    return suffix[1:]


def _pair(question: Any, answer: Any, source: Any, line: int) -> QAPair:
    texts = []
    for name, value in (("question", question), ("answer", answer)):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # {"answer": 1889} is meant as text
        if not isinstance(value, str):
            raise QAFileError(f"the {name} must be text", line)
        if not value.strip():
            raise QAFileError(f"the {name} is empty", line)
        texts.append(value.strip())
    kept = source.strip().lower() if isinstance(source, str) else ""
    origin = cast(QASource, kept) if kept in _SOURCES else "import"
    return QAPair(question=texts[0], answer=texts[1], source=origin)


def _field(record: dict[str, Any], name: str) -> Any:
    # "Question", "QUESTION" and "question" are the same key; an exact match wins.
    if name in record:
        return record[name]
    return next((v for k, v in record.items() if k.strip().casefold() == name), None)


def _read_jsonl(text: str) -> list[QAPair]:
    pairs = []
    # Not splitlines(): it also breaks at U+2028 and friends, which JSON keeps raw in strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise QAFileError(f"not valid JSON ({error.msg})", number) from error
        if not isinstance(record, dict):
            raise QAFileError('expected an object like {"question": ..., "answer": ...}', number)
        for name in ("question", "answer"):
            if _field(record, name) is None:
                raise QAFileError(f'no "{name}"', number)
        question, answer = _field(record, "question"), _field(record, "answer")
        pairs.append(_pair(question, answer, _field(record, "source"), number))
    return pairs


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the line each starts on (a quoted field may span several lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise QAFileError(f"malformed CSV ({error})", start) from error
        if any(cell.strip() for cell in row):
            yield start, row


def _read_csv(text: str) -> list[QAPair]:
    rows = _rows(text)
    first = next(rows, None)
    if first is None:
        return []
    header_line, header = first
    names = [cell.strip().casefold() for cell in header]
    if "question" not in names or "answer" not in names:
        raise QAFileError(
            'the first row must name a "question" and an "answer" column', header_line
        )
    q_col, a_col = names.index("question"), names.index("answer")
    s_col = names.index("source") if "source" in names else None
    pairs = []
    for number, row in rows:
        if len(row) <= max(q_col, a_col):
            raise QAFileError(f"expected at least {max(q_col, a_col) + 1} columns", number)
        source = row[s_col] if s_col is not None and s_col < len(row) else None
        pairs.append(_pair(row[q_col], row[a_col], source, number))
    return pairs

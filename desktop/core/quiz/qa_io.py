"""Question/answer files: JSON Lines or CSV, chosen by the file's suffix.

JSONL: one {"question": ..., "answer": ..., "source": ..., "stem": ...} object per line.
CSV: a header row naming question and answer (and optionally source and stem) columns.
Files written here keep each pair's source and continuation stem (the text a base model
continues; written only when there is one, and optional when read, so files from before
it existed still load); pairs from elsewhere become "import".

Files come from anywhere, so reading one either gives pairs or raises QAFileError with a
sentence ("line N: ..."), whatever is in it: nesting deep enough to exhaust the JSON
parser, a 5,000-digit number, a gigabyte. CSV cells are written so that a spreadsheet
shows them as text and never runs them as formulas (see `_cell`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast, get_args

from desktop.core.quiz.qa import QAPair, QASource
from desktop.core.storage.atomic_files import write_text_atomically

SUFFIXES = (".jsonl", ".csv")
_SOURCES: frozenset[str] = frozenset(get_args(QASource))
MAX_FILE_BYTES = 64 << 20  # thousands of questions are a few MB
MAX_NUMBER_CHARS = 100  # an answer like 1889 or 3.14, not 5,000 digits
# A spreadsheet runs a cell beginning with one of these as a formula (=HYPERLINK(…),
# =cmd|…): OWASP's list. Such a cell is written with a leading "'", which spreadsheets
# take as "this is text"; a cell that itself begins with "'" gets one more, so reading
# (which removes one "'" before these characters or another "'") gives back the exact text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_STARTS = (*_FORMULA_STARTS, "'")


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
                {"question": p.question, "answer": p.answer, "source": p.source}
                | ({"stem": p.stem} if p.stem else {}),
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
        # csv quotes a field holding "\n" (the line terminator) but not one holding a lone
        # "\r", which a reader takes as a line end: such rows are quoted whole.
        quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        pairs = list(pairs)
        stems = any(p.stem for p in pairs)  # no stem column when no pair has one
        writer.writerow(["question", "answer", "source", *(["stem"] if stems else [])])
        for p in pairs:
            row = [_cell(p.question), _cell(p.answer), _cell(p.source)]
            row += [_cell(p.stem)] if stems else []
            (quoted if any("\r" in cell for cell in row) else writer).writerow(row)
        text = buffer.getvalue()
    if not _is_text(text):
        raise QAFileError(f"Cannot write {path.name}: a question or answer holds an invalid "
                          "character (a lone surrogate)")  # fmt: skip
    try:
        write_text_atomically(path, text)
    except OSError as error:
        raise QAFileError(f"Cannot write {path.name}: {error.strerror or error}") from error


def read_pairs(path: str | Path) -> list[QAPair]:
    path = Path(path)
    kind = _kind(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise QAFileError(f"Cannot read {path.name}: {error.strerror or error}") from error
    if len(data) > MAX_FILE_BYTES:
        raise QAFileError(
            f"{path.name} is larger than {MAX_FILE_BYTES >> 20} MB: not a question file?"
        )
    try:
        text = data.decode("utf-8-sig")  # -sig: Excel and Notepad start the file with a BOM
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise QAFileError(f"{path.name} is not UTF-8 text", line) from error
    return _read_jsonl(text) if kind == "jsonl" else _read_csv(text)


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs (undone by `_uncell`)."""
    return "'" + text if text.startswith(_ESCAPED_STARTS) else text


def _uncell(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(_ESCAPED_STARTS):
        return text[1:]
    return text


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise QAFileError(f"{path.name}: use a .jsonl or .csv file")
    return suffix[1:]


def _pair(question: Any, answer: Any, source: Any, line: int, stem: Any = None) -> QAPair:
    texts = []
    for name, value in (("question", question), ("answer", answer)):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # {"answer": 1889} is meant as text
        if not isinstance(value, str):
            raise QAFileError(f"the {name} must be text", line)
        if not value.strip():
            raise QAFileError(f"the {name} is empty", line)
        if not _is_text(value):  # "\ud800" is valid JSON, but no file or database takes it
            raise QAFileError(f"the {name} holds an invalid character (a lone surrogate)", line)
        texts.append(value.strip())
    kept = source.strip().lower() if isinstance(source, str) else ""
    origin = cast(QASource, kept) if kept in _SOURCES else "import"
    if stem is not None and not isinstance(stem, str):
        raise QAFileError("the stem must be text", line)
    if stem is not None and not _is_text(stem):
        raise QAFileError("the stem holds an invalid character (a lone surrogate)", line)
    # Inner line breaks stay: a stem may open with its article's title on a line of its own.
    return QAPair(texts[0], texts[1], origin, stem.strip() if stem else "")


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
            record = json.loads(
                line, parse_int=_number, parse_float=_number, parse_constant=_not_json
            )
        except json.JSONDecodeError as error:
            raise QAFileError(f"not valid JSON ({error.msg})", number) from error
        except RecursionError as error:
            raise QAFileError("nested too deeply to read (not a question file?)", number) from error
        except ValueError as error:  # from _number or _not_json
            raise QAFileError(str(error), number) from error
        if not isinstance(record, dict):
            raise QAFileError('expected an object like {"question": ..., "answer": ...}', number)
        for name in ("question", "answer"):
            if _field(record, name) is None:
                raise QAFileError(f'no "{name}"', number)
        question, answer = _field(record, "question"), _field(record, "answer")
        source, stem = _field(record, "source"), _field(record, "stem")
        pairs.append(_pair(question, answer, source, number, stem))
    return pairs


def _number(literal: str) -> str:
    """A JSON number as the text it was written as: `{"answer": 3.10}` means "3.10" (a float
    would say 3.1), and int() of thousands of digits is refused by Python (ValueError)."""
    if len(literal) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number {len(literal):,} characters long (not a question file?)")
    return literal


def _not_json(constant: str) -> object:
    raise ValueError(f"not valid JSON ({constant} is not a JSON value)")


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
    t_col = names.index("stem") if "stem" in names else None
    pairs = []
    for number, row in rows:
        if len(row) <= max(q_col, a_col):
            raise QAFileError(f"expected at least {max(q_col, a_col) + 1} columns", number)
        source = row[s_col] if s_col is not None and s_col < len(row) else None
        stem = _uncell(row[t_col]) if t_col is not None and t_col < len(row) else None
        pairs.append(_pair(_uncell(row[q_col]), _uncell(row[a_col]), source, number, stem))
    return pairs

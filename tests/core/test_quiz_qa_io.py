from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.qa_io import QAFileError, read_pairs, write_pairs

AWKWARD = [
    QAPair('Who wrote "Le Temps", and when?', "Several artists, in 1887", "model"),
    QAPair("Line one\nline two?", 'He said "hi"\r\nthen left', "rules"),
    QAPair("Żółw, 東京 and émoji 🐢?", "Yes\u2028really", "manual"),
    QAPair("A comma, a quote ' and a tab\t?", "1,047 metres", "import"),
]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".JSONL"])
def test_round_trip_keeps_text_and_source(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"pairs{suffix}"
    write_pairs(path, AWKWARD)
    assert read_pairs(path) == AWKWARD
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_jsonl_format_is_one_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_pairs(path, AWKWARD[:2])
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 3
    assert json.loads(lines[0]) == {
        "question": 'Who wrote "Le Temps", and when?',
        "answer": "Several artists, in 1887",
        "source": "model",
    }


def test_csv_format_has_a_header(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    write_pairs(path, [QAPair("Where?", "Paris, France", "rules")])
    assert (
        path.read_text(encoding="utf-8") == 'question,answer,source\nWhere?,"Paris, France",rules\n'
    )


STEMMED = [
    QAPair("Who was the commander of Apollo 11?", "Neil Armstrong", "rules",
           stem="Apollo 11\n\nThe commander of Apollo 11 was"),
    QAPair("=When?", "16 July 1969", "rules", stem="=Apollo 11 was launched on"),
    QAPair("Typed?", "yes", "manual"),  # no stem
]  # fmt: skip


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_continuation_stems_go_out_and_come_back(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"pairs{suffix}"
    write_pairs(path, STEMMED)
    assert read_pairs(path) == STEMMED  # the title line's line breaks too


def test_the_stem_is_written_only_where_there_is_one(tmp_path: Path) -> None:
    jsonl, csv_path = tmp_path / "p.jsonl", tmp_path / "p.csv"
    write_pairs(jsonl, STEMMED)
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r.get("stem") for r in records] == [STEMMED[0].stem, STEMMED[1].stem, None]
    write_pairs(csv_path, STEMMED)
    header, *_ = csv_path.read_text().splitlines()
    assert header == "question,answer,source,stem"
    assert "'=Apollo 11 was launched on" in csv_path.read_text()  # never run as a formula


def test_files_from_before_stems_still_load(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    old.write_text('{"question": "Who?", "answer": "Curie", "source": "rules"}\n')
    assert read_pairs(old) == [QAPair("Who?", "Curie", "rules", "")]
    old_csv = tmp_path / "old.csv"
    old_csv.write_text("question,answer,source\nWho?,Curie,rules\n")
    assert read_pairs(old_csv) == [QAPair("Who?", "Curie", "rules", "")]
    short_row = tmp_path / "short.csv"  # a stem column some rows leave out
    short_row.write_text("question,answer,source,stem\nWho?,Curie,rules\n")
    assert read_pairs(short_row) == [QAPair("Who?", "Curie", "rules", "")]


def test_writing_replaces_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("old content", encoding="utf-8")
    write_pairs(path, [])
    assert read_pairs(path) == []
    assert path.read_text(encoding="utf-8") == "question,answer,source\n"


def test_reading_tolerates_bom_blank_lines_extra_keys_and_key_case(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + "\n".join(
            [
                '{"Question": " Who? ", "ANSWER": "Curie", "difficulty": 3}',
                "",
                "   ",
                '{"question": "When?", "answer": 1867, "source": "rules"}',
                '{"question": "Where?", "answer": "Warsaw", "source": "wikipedia"}\r',
            ]
        ).encode("utf-8")
    )
    assert read_pairs(path) == [
        QAPair("Who?", "Curie", "import"),
        QAPair("When?", "1867", "rules"),
        QAPair("Where?", "Warsaw", "import"),  # not a known source
    ]


def test_csv_reading_tolerates_bom_extra_columns_and_header_case(tmp_path: Path) -> None:
    path = tmp_path / "in.CSV"
    path.write_bytes(
        "\ufeffID,Answer,Question,Notes\r\n"
        '1,Paris,"Where is the tower,\nexactly?",x\r\n'
        "\r\n"
        "2,1889,When was it finished?\r\n".encode()
    )
    assert read_pairs(path) == [
        QAPair("Where is the tower,\nexactly?", "Paris", "import"),
        QAPair("When was it finished?", "1889", "import"),
    ]


@pytest.mark.parametrize(
    ("suffix", "content", "line", "message"),
    [
        (".jsonl", '{"question": "a", "answer": "b"}\n\n{"question": "c", "answer": ', 3,
         "not valid JSON"),
        (".jsonl", '{"question": "a", "answer": "b"}\n["a", "b"]', 2, "expected an object"),
        (".jsonl", '{"question": "a"}', 1, 'no "answer"'),
        (".jsonl", '\n{"question": "a", "answer": "  "}', 2, "the answer is empty"),
        (".jsonl", '{"question": ["a"], "answer": "b"}', 1, "the question must be text"),
        (".jsonl", '{"question": "a", "answer": "b", "stem": {"x": 1}}', 1,
         "the stem must be text"),
        (".jsonl", '{"question": "a", "answer": "b", "stem": "\\ud800"}', 1,
         "the stem holds an invalid character"),
        (".csv", "q,a\nWho?,Curie\n", 1, "must name"),
        (".csv", 'question,answer\n"Who?\nreally",Curie\nWhere?\n', 4, "at least 2 columns"),
        (".csv", 'question,answer\nWho?,Curie\n"Where?,Warsaw\n', 3, "malformed CSV"),
        (".csv", "question,answer\nWho?,\n", 2, "the answer is empty"),
    ],
)  # fmt: skip
def test_bad_lines_are_reported_with_their_number(
    tmp_path: Path, suffix: str, content: str, line: int, message: str
) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QAFileError, match=message) as caught:
        read_pairs(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")
    assert isinstance(caught.value, ValueError)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(QAFileError, match=r"Cannot read missing\.jsonl"):
        read_pairs(tmp_path / "missing.jsonl")
    with pytest.raises(QAFileError, match=r"use a \.jsonl or \.csv file"):
        read_pairs(tmp_path / "pairs.txt")
    with pytest.raises(QAFileError, match=r"use a \.jsonl or \.csv file"):
        write_pairs(tmp_path / "pairs.json", [])
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"question,answer\nWho?,Curie\nO\xf9?,Paris\n")
    with pytest.raises(QAFileError, match="not UTF-8") as caught:
        read_pairs(latin1)
    assert caught.value.line == 3
    with pytest.raises(QAFileError, match="Cannot write"):
        write_pairs(tmp_path / "no-such-folder" / "pairs.csv", AWKWARD)
    assert read_pairs(_empty(tmp_path / "empty.csv")) == []
    assert read_pairs(_empty(tmp_path / "empty.jsonl")) == []


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def test_fsync_failure_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(QAFileError, match="No space left"):
        write_pairs(tmp_path / "pairs.jsonl", AWKWARD)
    assert list(tmp_path.iterdir()) == []

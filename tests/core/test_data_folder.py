"""Start-up with a damaged or unusable data folder: each case is a problem with a sentence
and its choices, never an exception, and the database is never changed (core, no Qt)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.storage import database, paths
from desktop.core.storage.conversations import ConversationStore
from desktop.core.storage.data_folder import Ask, check_data_folder, move_aside, settle_data_folder
from desktop.core.storage.data_problems import (
    Choice,
    DatabaseProblem,
    DataProblem,
    ReadOnlyDatabase,
)
from desktop.core.storage.database import open_database
from tests.data_folder_cases import CASES, build, healthy_database

DAMAGED = ("move_aside", "choose_folder", "quit")
# case: (kind, words the sentence must say, the choices offered)
EXPECTED: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "random_bytes": ("not_a_database", ("is not a database",), DAMAGED),
    "truncated": ("damaged", ("is damaged", "malformed"), DAMAGED),
    "zeroed_header": ("not_a_database", ("is not a database",), DAMAGED),
    "corrupt_page": ("damaged", ("is damaged",), DAMAGED),
    "newer_version": ("newer_version",
                      ("newer Deep Dive Lab", "version 99", "update Deep Dive Lab"),
                      ("open_read_only", "choose_folder", "quit")),
    "dropped_table": ("incomplete", ("lost part of its contents", "messages"), DAMAGED),
    "path_is_folder": ("path_is_folder", ("is a folder", "database file"), DAMAGED),
    "read_only_folder_with_database": ("folder_read_only",
                                       ("cannot write", "nothing could be saved"),
                                       ("open_read_only", "choose_folder", "quit")),
    "read_only_folder_without_database": ("folder_read_only", ("cannot write",),
                                          ("choose_folder", "quit")),
    "full_disk": ("disk_full", ("is full", "Free some space"), ("retry", "choose_folder", "quit")),
    "read_only_database_file": ("database_read_only", ("cannot be written",),
                                ("open_read_only", "choose_folder", "quit")),
    "folder_is_a_file": ("folder_unusable", ("cannot be used", "not a folder"),
                         ("choose_folder", "quit")),
}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_read_only_left() -> Iterator[None]:
    yield
    database.forget_read_only()


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder` and its sha256. SQLite's -shm index and an empty -wal,
    which a read-only connection may make next to a WAL database, hold no data: left out."""
    if folder.is_file():
        return {".": hashlib.sha256(folder.read_bytes()).hexdigest()}
    found = {}
    for p in sorted(folder.rglob("*")):
        if p.name.endswith("-shm") or (p.name.endswith("-wal") and p.stat().st_size == 0):
            continue
        found[str(p.relative_to(folder))] = (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        )
    return found


def test_every_case_is_covered() -> None:
    assert set(EXPECTED) == set(CASES) and len(CASES) >= 11


@pytest.mark.parametrize("case", CASES)
def test_each_case_is_a_problem_with_a_sentence_and_nothing_changes(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "home"
    path = build(case, folder, monkeypatch)
    before = fingerprint(folder)
    problem = check_data_folder(folder)
    kind, words, choices = EXPECTED[case]
    assert problem is not None
    assert problem.kind == kind, problem
    for word in words:
        assert word in problem.sentence, problem.sentence
    assert str(path if problem.path == path else folder) in problem.sentence
    assert problem.choices == choices
    if case != "full_disk":  # a full disk may leave the empty file SQLite started
        assert fingerprint(folder) == before
    assert "\n" not in problem.cli_line()


def test_a_healthy_folder_is_no_problem_and_gets_its_database(tmp_path: Path) -> None:
    folder = tmp_path / "new home"
    assert check_data_folder(folder) is None
    with ConversationStore(folder / paths.DATABASE_NAME) as store:
        assert store.list_conversations() == []
    healthy = tmp_path / "old"
    healthy_database(healthy)
    assert check_data_folder(healthy) is None


@pytest.mark.parametrize("case", ["random_bytes", "newer_version", "dropped_table"])
def test_open_database_raises_a_sentence_and_never_writes(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stores (and so the CLI) get a DatabaseProblem, before any write: the newer
    app's file is not even switched to another journal mode."""
    path = build(case, tmp_path / "home", monkeypatch)
    before = fingerprint(tmp_path / "home")
    with pytest.raises(DatabaseProblem) as raised:
        open_database(path)
    assert str(raised.value) == raised.value.problem.sentence
    assert fingerprint(tmp_path / "home") == before


def test_move_aside_renames_the_database_and_its_companions(tmp_path: Path) -> None:
    path = healthy_database(tmp_path)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).write_bytes(b"companion")
    content = path.read_bytes()
    moved = move_aside(path, now=0)
    assert moved.name.startswith(f"{paths.DATABASE_NAME}.damaged-")
    assert moved.read_bytes() == content and not path.exists()
    for suffix in ("-wal", "-shm"):
        assert moved.with_name(moved.name + suffix).read_bytes() == b"companion"
        assert not path.with_name(path.name + suffix).exists()
    # a second move in the same second never overwrites the first
    healthy_database(tmp_path)
    again = move_aside(path, now=0)
    assert again != moved and again.exists() and moved.read_bytes() == content


def answers(*choices: Choice) -> tuple[list[DataProblem], Ask]:
    """A person who answers `choices` in turn; the problems they were shown."""
    asked: list[DataProblem] = []
    queue = list(choices)

    def ask(problem: DataProblem) -> Choice:
        asked.append(problem)
        return queue.pop(0)

    return asked, ask


def test_moving_aside_starts_fresh_and_keeps_the_damaged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    path = build("corrupt_page", home, monkeypatch)
    damaged = path.read_bytes()
    asked, ask = answers("move_aside")
    settled = settle_data_folder(ask, lambda: None)
    assert settled is not None and not settled.read_only
    assert [p.kind for p in asked] == ["damaged"]
    (kept,) = home.glob(f"{paths.DATABASE_NAME}.damaged-*")
    assert kept.read_bytes() == damaged
    assert "moved aside" in settled.notes[0] and str(kept) in settled.notes[0]
    with ConversationStore(settled.database) as store:  # fresh and writable
        assert not store.read_only
        store.create_conversation()
        assert len(store.list_conversations()) == 1


def test_another_folder_is_for_this_session_only_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    build("random_bytes", home, monkeypatch)
    other = tmp_path / "other"
    _, ask = answers("choose_folder")
    settled = settle_data_folder(ask, lambda: other)
    assert settled is not None and settled.folder == other
    assert os.environ[paths.HOME_ENV] == str(other)
    assert "this session only" in settled.notes[0] and "nothing is remembered" in settled.notes[0]
    assert not any(p.name != paths.DATABASE_NAME for p in home.iterdir())  # nothing written there


def test_quit_and_a_cancelled_folder_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    build("zeroed_header", tmp_path / "home", monkeypatch)
    asked, ask = answers("choose_folder", "quit")
    assert settle_data_folder(ask, lambda: None) is None
    assert len(asked) == 2  # the dialog came back after the cancelled folder choice


def test_a_failed_move_is_said_before_asking_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    build("random_bytes", tmp_path / "home", monkeypatch)

    def no_rename(*_args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", no_rename)
    asked, ask = answers("move_aside", "quit")
    assert settle_data_folder(ask, lambda: None) is None
    assert asked[1].sentence.startswith("Moving deepdive.sqlite3 aside failed: Permission denied.")


def test_read_only_session_reads_and_refuses_writes_with_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    path = build("newer_version", home, monkeypatch)
    before = fingerprint(home)
    _, ask = answers("open_read_only")
    settled = settle_data_folder(ask, lambda: None)
    assert settled is not None and settled.read_only
    assert "Read-only" in settled.notes[0] and "is saved" in settled.notes[0]
    store = ConversationStore(path)
    assert store.read_only and len(store.list_conversations()) == 12
    with pytest.raises(ReadOnlyDatabase) as refused:
        store.create_conversation()
    assert isinstance(refused.value, sqlite3.OperationalError)
    assert "read-only" in str(refused.value) and str(path) in str(refused.value)
    with pytest.raises(ReadOnlyDatabase):
        store.add_message(1, "user", "hello")
    store.close()
    assert fingerprint(home) == before

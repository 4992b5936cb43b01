"""What can be wrong with the data folder or its database, said in one sentence each.

A problem names what is wrong, where, and which choices make sense for it; the GUI turns
the choices into buttons, the command line prints the sentence. Nothing here touches a
file: `database_check` and `data_folder` find the problems.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ProblemKind = Literal[
    "not_a_database",  # random bytes, a zeroed header, another program's file
    "damaged",  # SQLite's own check failed (a corrupt page, a truncated file)
    "incomplete",  # tables its schema version promises are missing
    "newer_version",  # written by a newer Deep Dive Lab
    "path_is_folder",  # a folder where the database file should be
    "folder_unusable",  # the data folder is a file, or cannot be created
    "folder_read_only",  # nothing can be created in the data folder
    "database_read_only",  # the database file itself cannot be written
    "unreadable",  # no permission to read the database file
    "disk_full",
    "locked",  # another program holds the write lock
    "unknown",
]
Choice = Literal["open_read_only", "move_aside", "choose_folder", "retry", "quit"]

CLI_HINT = (
    "start the Deep Dive Lab window to choose what to do, or set DEEPDIVE_HOME to another folder"
)


@dataclass(frozen=True)
class DataProblem:
    kind: ProblemKind
    path: Path  # the database file, or the folder when the folder is the problem
    sentence: str  # what is wrong and where, for a person
    choices: tuple[Choice, ...]
    detail: str = ""  # SQLite's or the OS's own words

    def cli_line(self) -> str:
        """One line for the command line, which offers no choices: it says where to go."""
        ways = []
        if "move_aside" in self.choices:
            ways.append("start the app's window, which can move it aside")
        if "choose_folder" in self.choices:
            ways.append("set DEEPDIVE_HOME to another folder")
        return self.sentence + (f" To go on: {', or '.join(ways)}." if ways else "")


class DatabaseProblem(RuntimeError):
    """Opening the app database failed for a reason a person can act on."""

    def __init__(self, problem: DataProblem) -> None:
        super().__init__(problem.sentence)
        self.problem = problem


class ReadOnlyDatabase(sqlite3.OperationalError):
    """A write to a database opened read-only. A subclass of OperationalError, so code
    that already handles a failed write (a full disk) shows this sentence too."""


def choice_text(choice: Choice, problem: DataProblem) -> tuple[str, str]:
    """A button's label and the sentence under it that says what it will do."""
    name = problem.path.name
    texts: dict[Choice, tuple[str, str]] = {
        "open_read_only": (
            "Open read-only",
            "Read your conversations and runs as they are; nothing new is saved in this session.",
        ),
        "move_aside": (
            "Move it aside and start fresh",
            f"Renames it to {name}.damaged-<date>-<time> in the same folder (nothing is "
            "deleted) and starts with a new, empty database.",
        ),
        "choose_folder": (
            "Use another data folder…",
            "Pick a folder for this session only; nothing is remembered (set DEEPDIVE_HOME "
            "to keep using it).",
        ),
        "retry": ("Try again", "Check again, after freeing space or closing the other program."),
        "quit": ("Quit", "Close Deep Dive Lab; nothing is changed."),
    }
    return texts[choice]


def read_only_sentence(path: Path) -> str:
    return (
        f"Not saved: the database {path} is open read-only in this session (to save again, "
        "quit, start Deep Dive Lab again and choose another way)."
    )


def make_problem(
    kind: ProblemKind, path: Path, detail: str = "", *, version: int = 0, newest: int = 0
) -> DataProblem:
    """The problem of `kind` with its sentence and its usual choices (callers narrow them:
    read-only only when SQLite can read the file, moving aside only when the folder can
    be written)."""
    where = str(path)
    sentences: dict[ProblemKind, str] = {
        "not_a_database": f"The file {where} is not a database Deep Dive Lab can read "
        f"({detail}): it is damaged, or another program's file took its place.",
        "damaged": f"The database {where} is damaged (SQLite's check says: {detail}).",
        "incomplete": f"The database {where} has lost part of its contents (missing: "
        f"{detail}): it was damaged or changed by another program.",
        "newer_version": f"The database {where} was written by a newer Deep Dive Lab "
        f"(schema version {version}; this version knows up to {newest}): update Deep Dive "
        "Lab to use it.",
        "path_is_folder": f"{where} is a folder, but that is where Deep Dive Lab keeps its "
        "database file.",
        "folder_unusable": f"The data folder {where} cannot be used: {detail}.",
        "folder_read_only": f"Deep Dive Lab cannot write in its data folder {where} "
        f"({detail}), so nothing could be saved.",
        "database_read_only": f"The database {where} cannot be written ({detail}), so "
        "nothing could be saved.",
        "unreadable": f"The database {where} cannot be read ({detail}).",
        "disk_full": f"The disk holding {where} is full: the database cannot be created "
        "or updated. Free some space, then try again.",
        "locked": f"The database {where} is locked by another program (is Deep Dive Lab "
        "already running?).",
        "unknown": f"The database {where} cannot be opened ({detail}).",
    }
    choices: dict[ProblemKind, tuple[Choice, ...]] = {
        "not_a_database": ("move_aside", "choose_folder", "quit"),
        "damaged": ("move_aside", "choose_folder", "quit"),
        "incomplete": ("move_aside", "choose_folder", "quit"),
        "newer_version": ("open_read_only", "choose_folder", "quit"),
        "path_is_folder": ("move_aside", "choose_folder", "quit"),
        "folder_unusable": ("choose_folder", "quit"),
        "folder_read_only": ("open_read_only", "choose_folder", "quit"),
        "database_read_only": ("open_read_only", "choose_folder", "quit"),
        "unreadable": ("choose_folder", "quit"),
        "disk_full": ("retry", "open_read_only", "choose_folder", "quit"),
        "locked": ("retry", "quit"),
        "unknown": ("move_aside", "choose_folder", "quit"),
    }
    return DataProblem(kind, path, sentences[kind], choices[kind], detail)


def without(problem: DataProblem, *dropped: Choice) -> DataProblem:
    """The same problem with some choices taken away (they are impossible here)."""
    kept = tuple(c for c in problem.choices if c not in dropped)
    return DataProblem(problem.kind, problem.path, problem.sentence, kept, problem.detail)


def problem_from_sqlite_error(exc: sqlite3.Error, path: Path) -> DataProblem:
    """Classify an error SQLite raised while opening, checking or migrating `path`."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    lowered = text.lower()
    if primary == sqlite3.SQLITE_NOTADB or "not a database" in lowered:
        return make_problem("not_a_database", path, text)
    if primary == sqlite3.SQLITE_CORRUPT or "malformed" in lowered:
        return make_problem("damaged", path, text)
    if primary == sqlite3.SQLITE_FULL or "disk is full" in lowered:
        return make_problem("disk_full", path, text)
    if primary == sqlite3.SQLITE_READONLY or "readonly" in lowered:
        return make_problem("database_read_only", path, text)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in lowered:
        return make_problem("locked", path, text)
    if primary in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return make_problem("unreadable", path, text)
    return make_problem("unknown", path, text)


def problem_from_os_error(exc: OSError, path: Path, *, folder: bool) -> DataProblem:
    """Classify an OS error met while creating or writing in the data folder (`folder`)
    or reading the database file."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return make_problem("disk_full", path, reason)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return make_problem("folder_read_only" if folder else "unreadable", path, reason)
    if folder:
        return make_problem("folder_unusable", path, reason)
    return make_problem("unknown", path, reason)

"""Start-up with the data folder: check it, and act on the person's choice when it is not
usable (open read-only, move the damaged database aside, use another folder, quit).

Nothing here deletes a file or writes to an existing database before it has been found
sound: the checks read (`database_check`), the only changes are a tiny probe file that
shows the folder can be written, and renaming a damaged database aside.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from desktop.core.storage.data_problems import (
    Choice,
    DatabaseProblem,
    DataProblem,
    make_problem,
    problem_from_os_error,
    without,
)
from desktop.core.storage.database import open_database, use_read_only
from desktop.core.storage.database_check import inspect_database, readable_file
from desktop.core.storage.paths import DATABASE_NAME, data_folder, use_data_folder

COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's files that belong to a database

Ask = Callable[[DataProblem], Choice]
PickFolder = Callable[[], Path | None]


@dataclass(frozen=True)
class Settled:
    """The data folder the app starts with, and what the window should tell about it."""

    folder: Path
    database: Path
    read_only: bool = False
    notes: tuple[str, ...] = ()


def check_data_folder(folder: Path) -> DataProblem | None:
    """What keeps the app from using `folder` (creating it and its database if needed),
    or None. Never raises for a problem of the folder or the database."""
    database = folder / DATABASE_NAME
    if folder.exists() and not folder.is_dir():
        return make_problem("folder_unusable", folder, "it is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return without(problem_from_os_error(exc, folder, folder=True), "open_read_only")
    write_error = write_probe(folder)
    problem = inspect_database(database, thorough=True)
    if problem is None and write_error is not None:
        problem = problem_from_os_error(write_error, folder, folder=True)
    if problem is None:
        try:
            open_database(database).close()  # creates or migrates it
        except DatabaseProblem as exc:
            problem = exc.problem
    if problem is None:
        return None
    if write_error is not None:
        problem = without(problem, "move_aside")  # renaming needs a writable folder
    if "open_read_only" in problem.choices and not readable_file(database):
        problem = without(problem, "open_read_only")
    return problem


def write_probe(folder: Path) -> OSError | None:
    """Create, write and remove a small file in `folder`: the error if that fails."""
    try:
        handle, name = tempfile.mkstemp(prefix=".deepdive-write-check-", dir=folder)
    except OSError as exc:
        return exc
    try:
        os.write(handle, b"deep dive lab\n")
    except OSError as exc:
        return exc
    finally:
        os.close(handle)
        Path(name).unlink(missing_ok=True)
    return None


def move_aside(path: Path, now: float | None = None) -> Path:
    """Rename a database (file or folder) to `<name>.damaged-<time>`, with its -wal, -shm
    and -journal files, so a fresh one can start; nothing is deleted or overwritten.
    Returns the new name. Raises OSError when the rename fails."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    count = 1
    while any(_with_suffix(target, s).exists() for s in ("", *COMPANIONS)):
        target = path.with_name(f"{path.name}.damaged-{stamp}-{count}")
        count += 1
    os.rename(path, target)  # first: if this fails, nothing has moved
    for suffix in COMPANIONS:  # a stale -wal next to a fresh database would corrupt it
        companion = _with_suffix(path, suffix)
        if companion.exists():
            os.rename(companion, _with_suffix(target, suffix))
    return target


def settle_data_folder(ask: Ask, pick_folder: PickFolder) -> Settled | None:
    """Check the data folder; while there is a problem, ask the person and act on the
    answer. None: they chose to quit."""
    notes: list[str] = []
    failure = ""  # what went wrong with the last choice, said before the problem
    while True:
        folder = data_folder()
        database = folder / DATABASE_NAME
        problem = check_data_folder(folder)
        if problem is None:
            return Settled(folder, database, notes=tuple(notes))
        if failure:
            problem = replace(problem, sentence=f"{failure} {problem.sentence}")
            failure = ""
        choice = ask(problem)
        if choice == "quit":
            return None
        if choice == "open_read_only":
            use_read_only(database)
            notes.append(read_only_note(database))
            return Settled(folder, database, read_only=True, notes=tuple(notes))
        if choice == "move_aside":
            try:
                moved = move_aside(problem.path)
            except OSError as exc:
                failure = f"Moving {problem.path.name} aside failed: {exc.strerror or exc}."
                continue
            notes.append(
                f"The old database was moved aside to {moved} (nothing was deleted); "
                "this session starts with a new, empty one."
            )
        elif choice == "choose_folder":
            chosen = pick_folder()
            if chosen is not None:
                use_data_folder(chosen)
                notes.append(session_folder_note(chosen))


def read_only_note(database: Path) -> str:
    return (
        f"Read-only: {database} is open for reading. Nothing you do in this session is "
        "saved; new chats, edits and runs are refused."
    )


def session_folder_note(folder: Path) -> str:
    return (
        f"Using the data folder {folder} for this session only: nothing is remembered, and "
        "the next start uses the usual folder again (set DEEPDIVE_HOME to keep this one)."
    )


def _with_suffix(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)

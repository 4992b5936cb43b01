"""The commands that keep runs in the app database (quiz, train --out) check it before
their work, and say in one line what is wrong with it, never with a traceback."""

from __future__ import annotations

import sqlite3

from desktop.core.storage.data_problems import DatabaseProblem, problem_from_sqlite_error


def database_problem_line() -> str | None:
    """`error: <what is wrong, where, what to do>` for a data folder or database the
    command cannot use, or None. Reads every page once (SQLite's quick_check)."""
    from desktop.core.storage.data_folder import check_data_folder
    from desktop.core.storage.paths import data_folder

    problem = check_data_folder(data_folder())
    return f"error: {problem.cli_line()}" if problem else None


def store_error_line(exc: DatabaseProblem | sqlite3.Error) -> str:
    """A store that failed while the command ran (a full disk, a file damaged meanwhile)."""
    if isinstance(exc, DatabaseProblem):
        return f"error: {exc.problem.cli_line()}"
    from desktop.core.storage.paths import database_path

    return f"error: {problem_from_sqlite_error(exc, database_path()).cli_line()}"

"""Looking at an existing database file without ever writing to it.

Opening a database for real switches it to WAL mode and runs migrations: both write. A
damaged file, another program's file or a newer app's database must not be touched, so
everything here reads through a read-only connection (`mode=ro`; in a folder where
SQLite cannot create its shared-memory file, `immutable=1`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop.core.storage.data_problems import (
    DataProblem,
    make_problem,
    problem_from_sqlite_error,
    without,
)

SQLITE_MAGIC = b"SQLite format 3\x00"


def connect_read_only(
    path: Path,
    factory: type[sqlite3.Connection] = sqlite3.Connection,
    *,
    leave_no_files: bool = False,
) -> sqlite3.Connection:
    """A connection that cannot write `path`. Raises sqlite3.Error when SQLite cannot read
    the file at all.

    `mode=ro` sees changes still in a -wal file but makes -wal/-shm files next to a WAL
    database; `immutable=1` reads the main file alone and makes none. So: `immutable` when
    there is no -wal to read and `leave_no_files` (a quick look), or when the folder is
    read-only and `mode=ro` cannot work (changes still in a -wal file are then not seen).
    """
    uri = path.resolve().as_uri()  # percent-encodes '?' and '#' in folder names
    wal = path.with_name(path.name + "-wal")
    if leave_no_files and not (wal.exists() and wal.stat().st_size > 0):
        return _connect(f"{uri}?mode=ro&immutable=1", factory)
    try:
        return _connect(f"{uri}?mode=ro", factory)
    except sqlite3.OperationalError as exc:
        primary = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if primary not in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
            raise
        return _connect(f"{uri}?mode=ro&immutable=1", factory)


def _connect(uri: str, factory: type[sqlite3.Connection]) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, factory=factory)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opening is lazy
    except BaseException:
        conn.close()
        raise
    return conn


def inspect_database(path: Path, *, thorough: bool = True) -> DataProblem | None:
    """What is wrong with the database file at `path`, or None if the app can use it.

    A missing or empty file is fine: it becomes a new database. `thorough` adds SQLite's
    `quick_check`, which reads every page (about 100 ms for 160 MB): the window runs it
    once at start-up, commands before their work.
    """
    from desktop.core.storage.database import SCHEMA_VERSION, tables_at_version

    if path.is_dir():
        return make_problem("path_is_folder", path)
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return make_problem("folder_unusable", path.parent, "it is a file, not a folder")
    except OSError as exc:
        return make_problem("unreadable", path, exc.strerror or str(exc))
    if not header:
        return None
    if not header.startswith(SQLITE_MAGIC):
        return make_problem("not_a_database", path, "it does not start like an SQLite file")
    try:
        conn = connect_read_only(path, leave_no_files=True)
    except sqlite3.Error as exc:
        return problem_from_sqlite_error(exc, path)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if thorough:
            rows = conn.execute("PRAGMA quick_check(3)").fetchall()
            if [tuple(r) for r in rows] != [("ok",)]:
                return make_problem("damaged", path, "; ".join(str(r[0]) for r in rows))
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if version == 0 and tables:
            return make_problem("not_a_database", path, "it is another program's database")
        if version > SCHEMA_VERSION:
            problem = make_problem("newer_version", path, version=version, newest=SCHEMA_VERSION)
            if not readable(conn):
                problem = without(problem, "open_read_only")
            return problem
        missing = sorted(tables_at_version(version) - tables)
        if missing:
            return make_problem("incomplete", path, "the tables " + ", ".join(missing))
    except sqlite3.Error as exc:
        return problem_from_sqlite_error(exc, path)
    finally:
        conn.close()
    return None


def readable(conn: sqlite3.Connection) -> bool:
    """Can this app show what is in the database: its tables are there, and it has at least
    one conversation (the Chat tab opens one; an empty database has nothing to read)."""
    from desktop.core.storage.database import SCHEMA_VERSION, tables_at_version

    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if not tables_at_version(SCHEMA_VERSION) <= tables:
            return False
        return conn.execute("SELECT id FROM conversations LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return False


def readable_file(path: Path) -> bool:
    """`readable`, for a file that `inspect_database` found sound (or only newer)."""
    if not path.is_file():
        return False
    try:
        conn = connect_read_only(path, leave_no_files=True)
    except sqlite3.Error:
        return False
    try:
        return readable(conn)
    finally:
        conn.close()

"""The app's one SQLite database file: opening it, its schema migrations, transactions.

Rule: there is exactly one database file (`paths.database_path()`) and exactly one ordered
list of migrations for it, `MIGRATIONS` below, which alone owns `PRAGMA user_version`. A store
that needs new tables (quiz runs, training runs, ...) appends a step to that list; it never
keeps a version counter or a migration list of its own, and no step is ever edited or removed
once released. The steps live here, so the whole schema history reads top to bottom in one
place.

Every connection runs in WAL mode with `synchronous=FULL`, so a committed write survives a
crash or power loss, and in autocommit mode, so transactions are explicit (`transaction`),
never implicit. `busy_timeout` lets a second app window wait for a writer instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from desktop.core.chat.presets import seed_presets
from desktop.core.storage.data_problems import (
    DatabaseProblem,
    ReadOnlyDatabase,
    problem_from_os_error,
    problem_from_sqlite_error,
    read_only_sentence,
)
from desktop.core.storage.paths import database_path

Migration = Callable[[sqlite3.Connection], None]
BUSY_TIMEOUT_MS = 5000


def open_database(path: str | Path | None = None) -> sqlite3.Connection:
    """Connect to the app database (default: `paths.database_path()`) and migrate it.

    Rows come back as `sqlite3.Row` (index them by position or by column name). The
    connection keeps sqlite3's default same-thread check. A file this app must not write
    (damaged, another program's, a newer app's) is looked at read-only first and never
    touched; that and every failure to open are raised as `DatabaseProblem`, whose
    message is a sentence for a person.
    """
    from desktop.core.storage.database_check import inspect_database

    path = Path(path) if path is not None else database_path()
    if is_read_only(path):
        return _open_read_only(path)
    problem = inspect_database(path, thorough=False)
    if problem is not None:
        raise DatabaseProblem(problem)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None)  # autocommit
    except OSError as exc:
        raise DatabaseProblem(problem_from_os_error(exc, path.parent, folder=True)) from exc
    except sqlite3.Error as exc:
        raise DatabaseProblem(problem_from_sqlite_error(exc, path)) from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        migrate(conn)
        _check_writable(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise DatabaseProblem(problem_from_sqlite_error(exc, path)) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _check_writable(conn: sqlite3.Connection) -> None:
    """Fail now, not at the first save, when the file cannot be written. SQLite opens a
    read-only file read-only without a word, and an up-to-date schema needs no write, so
    write the version back unchanged and roll it back: nothing reaches the file."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute(f"PRAGMA user_version = {version}")
    finally:
        conn.execute("ROLLBACK")


# --- read-only sessions ---------------------------------------------------------------
# When the person chooses "open read-only" at start-up, every store of this process opens
# that file read-only: the stores keep calling `open_database` as always.

_read_only_paths: set[Path] = set()


def use_read_only(path: str | Path) -> None:
    """From now on, `open_database(path)` opens `path` read-only (this process only)."""
    _read_only_paths.add(Path(path).resolve())


def is_read_only(path: str | Path) -> bool:
    return Path(path).resolve() in _read_only_paths


def forget_read_only() -> None:
    """Tests: back to normal opening."""
    _read_only_paths.clear()


class _RefusingConnection(sqlite3.Connection):
    """Turns SQLite's "attempt to write a readonly database" into a sentence, once open
    (while opening, `connect_read_only` needs SQLite's own error to choose how)."""

    refusing = False

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as exc:
            raise _refusal(exc, self) from exc

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.OperationalError as exc:
            raise _refusal(exc, self) from exc

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(sql_script)
        except sqlite3.OperationalError as exc:
            raise _refusal(exc, self) from exc


def _refusal(exc: sqlite3.OperationalError, conn: _RefusingConnection) -> sqlite3.OperationalError:
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if not conn.refusing or (code != sqlite3.SQLITE_READONLY and "readonly" not in str(exc)):
        return exc
    path = Path(conn.execute("PRAGMA database_list").fetchone()[2] or "?")
    return ReadOnlyDatabase(read_only_sentence(path))


def _open_read_only(path: Path) -> sqlite3.Connection:
    from desktop.core.storage.database_check import connect_read_only

    try:
        conn = connect_read_only(path, factory=_RefusingConnection)
    except sqlite3.Error as exc:
        raise DatabaseProblem(problem_from_sqlite_error(exc, path)) from exc
    assert isinstance(conn, _RefusingConnection)
    conn.refusing = True
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA query_only = ON")  # refuses writes even where the file allows them
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on an autocommit connection: committed on exit, rolled back on error.

    BEGIN IMMEDIATE takes the write lock up front, so a read-then-write inside the block
    cannot be overtaken by another connection.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --- schema -------------------------------------------------------------------------------


def _create_chat_tables(conn: sqlite3.Connection) -> None:
    """Version 1: conversations, their messages, and the seeded system-prompt presets."""
    conn.execute(
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            system_prompt TEXT NOT NULL DEFAULT '',
            model_path TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            settings_json TEXT NOT NULL DEFAULT '{}')"""
    )
    # Role and status are checked in Python, not with CHECK constraints: SQLite can only
    # change a CHECK by rebuilding the table, which would make later migrations heavy.
    conn.execute(
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL
                REFERENCES conversations(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'complete',
            created_at REAL NOT NULL,
            stats_json TEXT,
            token_probs_json TEXT,
            UNIQUE (conversation_id, position))"""
    )
    conn.execute("CREATE INDEX conversations_by_update ON conversations(updated_at)")
    conn.execute(
        """CREATE TABLE presets (
            name TEXT PRIMARY KEY,
            system_prompt TEXT NOT NULL,
            updated_at REAL NOT NULL)"""
    )
    seed_presets(conn)


def _create_training_runs(conn: sqlite3.Connection) -> None:
    """Version 2: training runs. The weights and curves live in each run's folder (its
    checkpoint); the table is the list the Train tab shows."""
    conn.execute(
        """CREATE TABLE training_runs (
            id INTEGER PRIMARY KEY,
            folder TEXT NOT NULL UNIQUE,
            corpus TEXT NOT NULL,
            config_json TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'running',
            step INTEGER NOT NULL DEFAULT 0,
            val_loss REAL,
            exported_path TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL)"""
    )


def _create_quiz_runs(conn: sqlite3.Connection) -> None:
    """Version 3: quiz runs and every answer, stored as it arrives (a stopped or crashed
    run keeps what it had and can be resumed)."""
    conn.execute(
        """CREATE TABLE quiz_runs (
            id INTEGER PRIMARY KEY,
            model_path TEXT NOT NULL,
            article_title TEXT NOT NULL,
            article_text TEXT NOT NULL,
            pairs_json TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'running',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL)"""
    )
    conn.execute(
        """CREATE TABLE quiz_answers (
            run_id INTEGER NOT NULL REFERENCES quiz_runs(id) ON DELETE CASCADE,
            question_index INTEGER NOT NULL,
            mode TEXT NOT NULL,
            sample INTEGER NOT NULL,
            answer TEXT NOT NULL,
            confidence REAL NOT NULL,
            grade TEXT NOT NULL,
            method TEXT NOT NULL,
            PRIMARY KEY (run_id, question_index, mode, sample))"""
    )


def _create_quiz_prompts(conn: sqlite3.Connection) -> None:
    """Version 4: the exact prompt each quiz question got, per mode (the K samples of a
    question share it), with how much of the article an open-book prompt held."""
    conn.execute(
        """CREATE TABLE quiz_prompts (
            run_id INTEGER NOT NULL REFERENCES quiz_runs(id) ON DELETE CASCADE,
            question_index INTEGER NOT NULL,
            mode TEXT NOT NULL,
            prompt TEXT NOT NULL,
            stops_json TEXT NOT NULL,
            form TEXT NOT NULL,
            tokens INTEGER NOT NULL,
            article_share REAL NOT NULL,
            PRIMARY KEY (run_id, question_index, mode))"""
    )


def _add_tools_and_documents(conn: sqlite3.Connection) -> None:
    """Version 5: a message's tool calls or tool result (`tool_json`, NULL for every older
    message, so old conversations load as they were), and the documents attached to each
    conversation."""
    conn.execute("ALTER TABLE messages ADD COLUMN tool_json TEXT")
    conn.execute(
        """CREATE TABLE conversation_documents (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL
                REFERENCES conversations(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            added_at REAL NOT NULL)"""
    )


def _create_preferences(conn: sqlite3.Connection) -> None:
    """Version 6: preference pairs (two replies, the one a person chose), for RLHF: the
    Chat tab's compare votes now, the Reinforce tab's later (`preferences.py`)."""
    conn.execute(
        """CREATE TABLE preferences (
            id INTEGER PRIMARY KEY,
            prompt TEXT NOT NULL,
            context_json TEXT NOT NULL DEFAULT '[]',
            chosen TEXT NOT NULL,
            rejected TEXT NOT NULL,
            tie INTEGER NOT NULL DEFAULT 0,
            chosen_model TEXT NOT NULL DEFAULT '',
            rejected_model TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL,
            created_at REAL NOT NULL)"""
    )
    conn.execute("CREATE INDEX preferences_by_source ON preferences(source, created_at)")


def _create_posttrain_runs(conn: sqlite3.Connection) -> None:
    """Version 7: fine-tuning runs (the Post-train tab). As for training runs, the weights,
    data and curves live in the run's folder; the table is the list the tab shows."""
    conn.execute(
        """CREATE TABLE posttrain_runs (
            id INTEGER PRIMARY KEY,
            folder TEXT NOT NULL UNIQUE,
            model_path TEXT NOT NULL,
            data_label TEXT NOT NULL,
            method TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'running',
            step INTEGER NOT NULL DEFAULT 0,
            steps INTEGER NOT NULL DEFAULT 0,
            val_loss REAL,
            exported_path TEXT,
            quiz_run_id INTEGER,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL)"""
    )


# MIGRATIONS[i] upgrades a database from user_version i to i + 1. Only ever append.
MIGRATIONS: tuple[Migration, ...] = (
    _create_chat_tables,
    _create_training_runs,
    _create_quiz_runs,
    _create_quiz_prompts,
    _add_tools_and_documents,
    _create_preferences,
    _create_posttrain_runs,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> None:
    """Bring the schema up to date, one committed step per version.

    The version is re-read inside each write transaction, so two app instances opening a
    fresh database at once cannot both run the same step. `conn` must be in autocommit mode.
    """
    while True:
        with transaction(conn):
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > len(migrations):
                raise RuntimeError(
                    f"the database has schema version {version}, newer than this app "
                    f"understands ({len(migrations)}); update Deep Dive Lab"
                )
            if version == len(migrations):
                return
            migrations[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")


@cache
def tables_at_version(version: int) -> frozenset[str]:
    """The tables a database of schema `version` has: the first `version` migrations run on
    an empty in-memory database (so this never drifts from the migrations themselves)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for step in MIGRATIONS[: min(version, len(MIGRATIONS))]:
            step(conn)
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return frozenset(row[0] for row in rows)
    finally:
        conn.close()

"""Damaged and unusable data folders, built in a temp dir, for the start-up tests.

`build(kind, folder)` makes the case and returns what it needs to undo or check. Three
cases depend on the operating system refusing a write. When the tests run as root,
chmod stops nothing (root writes anyway), so those cases are made honestly in another
way, said in each builder: the write that the OS would refuse is refused by a patched
`os.open` (the folder probe) or by opening SQLite's connection read-only, which is what
SQLite itself does when the OS refuses to open the file for writing. A full disk is
SQLite's own SQLITE_FULL, from `PRAGMA max_page_count` on the app's connection.
"""

from __future__ import annotations

import errno
import os
import random
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from desktop.core.storage.conversations import ConversationStore
from desktop.core.storage.paths import DATABASE_NAME

CASES = (
    "random_bytes",
    "truncated",
    "zeroed_header",
    "corrupt_page",
    "newer_version",
    "dropped_table",
    "path_is_folder",
    "read_only_folder_with_database",
    "read_only_folder_without_database",
    "full_disk",
    "read_only_database_file",
    "folder_is_a_file",
)


def healthy_database(folder: Path, conversations: int = 12) -> Path:
    """An app database with a few pages of conversations, closed (no -wal left)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DATABASE_NAME
    with ConversationStore(path) as store:
        for i in range(conversations):
            conversation = store.create_conversation(title=f"Chat {i}")
            for j in range(6):
                store.add_message(conversation.id, "user", f"message {i}.{j} " + "x" * 600)
    return path


def chmod_stops_writes(tmp_path: Path) -> bool:
    """False when running as root (or on a file system that ignores modes)."""
    probe = tmp_path / "chmod-probe"
    probe.mkdir()
    probe.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        (probe / "x").write_text("x")
    except PermissionError:
        return True
    finally:
        probe.chmod(stat.S_IRWXU)
    return False


def refuse_writes_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `folder` read-only for this process: by chmod where it works, otherwise (root)
    `os.open` refuses to create files in it with the error the OS would give."""
    if chmod_stops_writes(folder.parent):
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(path).parent == folder and flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)


def sqlite_connect_wrapped(
    monkeypatch: pytest.MonkeyPatch, after: Any = None, uri: Any = None
) -> None:
    """Wrap sqlite3.connect for the app's read-write connections (plain paths, not the
    read-only `file:` URIs the checks use)."""
    real_connect = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if kwargs.get("uri") or str(database).startswith(("file:", ":memory:")):
            return real_connect(database, *args, **kwargs)
        if uri is not None:
            database, kwargs = uri(database), {**kwargs, "uri": True}
        conn = real_connect(database, *args, **kwargs)
        if after is not None:
            after(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)


def build(kind: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make case `kind` with `folder` as the data folder; returns the database path."""
    path = folder / DATABASE_NAME
    if kind == "random_bytes":
        folder.mkdir(parents=True)
        path.write_bytes(random.Random(1).randbytes(20_000))
    elif kind == "truncated":
        size = healthy_database(folder).stat().st_size
        os.truncate(path, size // 2)
    elif kind == "zeroed_header":
        healthy_database(folder)
        with path.open("r+b") as file:
            file.write(bytes(100))
    elif kind == "corrupt_page":
        healthy_database(folder)
        with path.open("r+b") as file:  # page 6 of 4 KB: a b-tree page of the messages
            file.seek(4096 * 5)
            file.write(random.Random(2).randbytes(4096))
    elif kind == "newer_version":
        healthy_database(folder)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version = 99")
        conn.close()
    elif kind == "dropped_table":
        healthy_database(folder)
        conn = sqlite3.connect(path)
        conn.execute("DROP TABLE messages")
        conn.close()
    elif kind == "path_is_folder":
        (path / "something").mkdir(parents=True)
    elif kind == "read_only_folder_with_database":
        healthy_database(folder)
        refuse_writes_in(folder, monkeypatch)
    elif kind == "read_only_folder_without_database":
        folder.mkdir(parents=True)
        refuse_writes_in(folder, monkeypatch)
    elif kind == "full_disk":
        folder.mkdir(parents=True)
        # SQLite's own "database or disk is full" (SQLITE_FULL) on the first page it adds.
        sqlite_connect_wrapped(
            monkeypatch, after=lambda conn: conn.execute("PRAGMA max_page_count = 1")
        )
    elif kind == "read_only_database_file":
        healthy_database(folder)
        if chmod_stops_writes(folder.parent):
            path.chmod(stat.S_IRUSR)
        else:  # root: SQLite opens a file it may not write read-only, so open it that way
            sqlite_connect_wrapped(monkeypatch, uri=lambda p: f"{Path(p).as_uri()}?mode=ro")
    elif kind == "folder_is_a_file":
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_text("not a folder")
    else:
        raise ValueError(kind)
    return path

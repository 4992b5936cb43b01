"""Where the app keeps its files.

Everything lives under one data folder so tests (and curious users) can redirect all of it
with a single environment variable, `DEEPDIVE_HOME`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

APP_NAME = "DeepDiveLab"
HOME_ENV = "DEEPDIVE_HOME"
DATABASE_NAME = "deepdive.sqlite3"


def data_folder() -> Path:
    """The per-user data folder, without creating it (start-up checks it first)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    # Imported here: platformdirs is cheap, but core modules stay import-light.
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The per-user data folder, created if missing."""
    path = data_folder()
    path.mkdir(parents=True, exist_ok=True)
    return path


def use_data_folder(folder: Path) -> None:
    """Use `folder` for the rest of this process (and the processes it starts). Nothing is
    written anywhere: the next start uses the usual folder again."""
    os.environ[HOME_ENV] = str(folder)


def models_dir() -> Path:
    path = data_dir() / "models"
    # A read-only data folder (a read-only session): the library lists the folder as missing.
    with contextlib.suppress(OSError):
        path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    """The SQLite file holding conversations, presets, quiz and training runs."""
    return data_dir() / DATABASE_NAME

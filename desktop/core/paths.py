"""Where the app keeps its files.

Everything lives under one data folder so tests (and curious users) can redirect all of it
with a single environment variable, `DEEPDIVE_HOME`.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "DeepDiveLab"
HOME_ENV = "DEEPDIVE_HOME"


def data_dir() -> Path:
    """The per-user data folder, created if missing."""
    override = os.environ.get(HOME_ENV)
    if override:
        path = Path(override).expanduser()
    else:
        # Imported here: platformdirs is cheap, but core modules stay import-light.
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    """The SQLite file holding conversations, presets, quiz and training runs."""
    return data_dir() / "deepdive.sqlite3"

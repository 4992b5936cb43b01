"""Where file dialogs open: the person's Documents folder (or the app's data folder when
there is none) - never the folder the app happened to be started from."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

from desktop.core.storage.paths import data_dir


def documents_dir() -> Path:
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(found) if found else None
    if folder is None or not folder.is_dir():
        folder = data_dir() / "exports"
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def suggested(file_name: str) -> str:
    """A file dialog's starting path for `file_name`."""
    return str(documents_dir() / file_name)

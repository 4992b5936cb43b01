"""Which folders make up the model library. Shared by the GUI and the command line, so it
lives in a small JSON file in the data folder rather than in Qt settings. The first
folder is where downloads go."""

from __future__ import annotations

import json
from pathlib import Path

from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.storage.paths import data_dir, models_dir

_FILE = "library.json"


def library_folders() -> list[Path]:
    try:
        data = json.loads((data_dir() / _FILE).read_text(encoding="utf-8"))
        folders = [Path(f) for f in data.get("folders", []) if isinstance(f, str)]
    except (OSError, ValueError, AttributeError):
        folders = []
    return folders or [models_dir()]


class MissingFolderError(FileNotFoundError):
    pass


def download_folder() -> Path:
    """The first library folder. The app's own models folder is created when missing;
    a folder the user chose is not: if it is gone (an unplugged drive), filling its empty
    mount point on the system disk would be a surprise, so this says so instead."""
    folder = library_folders()[0]
    if folder == models_dir() or folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    raise MissingFolderError(
        f"The download folder {folder} is missing (an unplugged drive?): reconnect it, or "
        "remove it from the library folders."
    )


def set_library_folders(folders: list[Path]) -> None:
    unique = list(dict.fromkeys(str(Path(f).expanduser()) for f in folders))
    write_text_atomically(data_dir() / _FILE, json.dumps({"folders": unique}, indent=1))

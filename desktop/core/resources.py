"""Files shipped with the app (sample articles, icons), in a source tree or a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    # PyInstaller unpacks bundled data under sys._MEIPASS; from source it is the repo's
    # top-level resources/ folder.
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def bundled_models() -> list[Path]:
    """The models that ship with the app (the starter model): there on the first launch,
    with no download."""
    return sorted((resources_dir() / "models").glob("*.gguf"))

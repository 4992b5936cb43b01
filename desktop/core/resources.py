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


# The starter models (packaging/make_starter_model.py): a base model made by the Train
# tab's code, and the same model after the Post-train tab's identity SFT.
STARTER = "deepdive-starter.gguf"
STARTER_ASSISTANT = "deepdive-starter-chat.gguf"


def bundled_models() -> list[Path]:
    """The models that ship with the app: there on the first launch, with no download.
    The base starter model first (the one to train further), then the rest by name."""
    found = sorted((resources_dir() / "models").glob("*.gguf"))
    return sorted(found, key=lambda path: path.name != STARTER)


def bundled_for_chat() -> list[Path]:
    """The built-in models in the order the Chat tab offers them: the post-trained starter
    first (what "Try the built-in model" loads: it answers who made it), then the rest."""
    return sorted(bundled_models(), key=lambda path: path.name != STARTER_ASSISTANT)

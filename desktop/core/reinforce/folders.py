"""Where the Reinforce tab keeps its models: `<data>/reinforce/`, a folder per start model
(and writer), each RL run in a folder of its own inside its start model's. RL runs and
reward models are also listed in the runs table (corpus `reinforce:<what>`), so they can
be found again; the Train tab leaves those out of its list."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.core.reinforce.start_model import START_FILE, WRITER
from desktop.core.storage.paths import data_dir

RUNS_PREFIX = "reinforce:"


def reinforce_dir() -> Path:
    return data_dir() / "reinforce"


def new_folder(parent: Path, stem: str) -> Path:
    """A new, empty folder named after `stem` and the time."""
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        folder = parent / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue


@dataclass(frozen=True)
class StartListing:
    folder: Path
    task: str
    difficulty: int
    pass_at_1: float | None
    step: int

    @property
    def label(self) -> str:
        if self.task == WRITER:
            return f"writer · {self.folder.name}"
        share = f", first try {self.pass_at_1:.0%}" if self.pass_at_1 is not None else ""
        return f"{self.task} (difficulty {self.difficulty}{share}) · {self.folder.name}"


def start_models(folder: Path | None = None) -> list[StartListing]:
    """Every start model (and writer) saved under `folder`, newest first; damaged ones
    are left out."""
    root = folder or reinforce_dir()
    found = []
    for path in sorted(root.glob(f"*/{START_FILE}"), reverse=True):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            recipe, figures = info["recipe"], info.get("figures", {})
            found.append(StartListing(path.parent, str(recipe["task"]),
                                      int(recipe["difficulty"]), figures.get("pass_at_1"),
                                      int(info.get("step", 0))))  # fmt: skip
        except (OSError, KeyError, TypeError, ValueError):
            continue
    return found

"""Exporting a trained run as a GGUF file, on a worker thread (writing and quantising a
model can take seconds), into the library's `trained/` folder: the Models tab lists it and
the Chat tab can open it straight away."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.models.gguf_writer import FileType
from desktop.core.train.run_training import TrainingOutcome
from desktop.engine.jobs import Jobs


def gguf_path(outcome: TrainingOutcome, file_type: FileType, library: Path) -> Path:
    """The run's folder name, plus the weight type unless it is the exact F32."""
    suffix = "" if file_type == "F32" else f"-{file_type}"
    return library / "trained" / f"{run_name(outcome)}{suffix}.gguf"


def run_name(outcome: TrainingOutcome) -> str:
    """The run folder's name (a timestamp): the tab's runs always have a folder."""
    return outcome.folder.name if outcome.folder is not None else "trained"


class GgufExport(QObject):
    written = Signal(object, object)  # the GGUF's Path; the exported run's id, or None
    failed = Signal(object)  # the exception

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.jobs = Jobs(self)

    def start(
        self, outcome: TrainingOutcome, target: Path, file_type: FileType, run_id: int | None
    ) -> None:
        """Write `outcome` to `target`; `run_id` comes back with the answer, so the right
        row of the runs table is updated whatever run is opened meanwhile."""
        from desktop.core.train.trainer import export_gguf

        name = f"deepdive-{run_name(outcome)}-base"  # pretrained only: asked as a base model
        tokenizer = outcome.tokenizer
        assert tokenizer is not None  # a pretraining run always has its own tokenizer
        self.jobs.start(
            "export",
            lambda _c: export_gguf(outcome.run, tokenizer, target, name=name, file_type=file_type),
            done=lambda path: self.written.emit(path, run_id),
            failed=self.failed.emit,
        )

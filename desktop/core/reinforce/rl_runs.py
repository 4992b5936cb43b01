"""Earlier RL runs: what each one did, and whether it left a model that can be used.

An RL run's folder fills as it goes (`tokenizer.json`, `checkpoint.npz` at every
evaluation), so a folder alone says nothing about whether the run ended well. The last
thing a run writes, atomically, is `rl_run.json` — its summary (task, start model, steps,
held-out figures before and after) and the size of the checkpoint it ended with. A run
counts as usable only when that marker is whole and the checkpoint still matches it: a
crash before or during the last save leaves a run that is listed (so it can be deleted)
but never offered for export or chat.

    for event in recorded(run_rl(job, state), folder, start, settings.steps): ...
    for listing in rl_runs(store): listing.usable, listing.label
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Generator, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop.core.reinforce.folders import RUNS_PREFIX, reinforce_dir
from desktop.core.reinforce.rl_run import Baseline
from desktop.core.reinforce.start_model import StartModel
from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.train.run_training import CHECKPOINT, TOKENIZER, Finished, TrainingEvent
from desktop.core.train.runs_store import RunRecord, RunsStore
from desktop.core.train.trainer import StepMetrics

RUN_FILE = "rl_run.json"
RL_CORPUS = f"{RUNS_PREFIX}rl:"  # the runs table's corpus of an RL run: + the task


@dataclass(frozen=True)
class RLRunInfo:
    """What `rl_run.json` holds."""

    task: str
    difficulty: int
    start: str  # the start model's folder name
    steps: int  # the steps it made
    planned_steps: int
    stopped: bool  # stopped early (Stop, or the app closing) rather than finished
    before: dict[str, Any]  # the start model's held-out figures, with graded answers
    after: dict[str, Any]  # the last evaluation's, likewise
    after_step: int  # the step of that evaluation
    finished_at: float
    checkpoint_bytes: int  # the size of the checkpoint it ended with

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> RLRunInfo:
        d = json.loads(text)
        return cls(str(d["task"]), int(d["difficulty"]), str(d["start"]), int(d["steps"]),
                   int(d["planned_steps"]), bool(d["stopped"]), dict(d["before"]),
                   dict(d["after"]), int(d["after_step"]), float(d["finished_at"]),
                   int(d["checkpoint_bytes"]))  # fmt: skip


def recorded(
    events: Iterable[Baseline | TrainingEvent], folder: Path, start: StartModel, planned: int
) -> Generator[Baseline | TrainingEvent, None, None]:
    """`run_rl`'s events, passed on; when the run has ended (and `run_training` has saved
    its last checkpoint), its summary is written as the run's completion marker."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    after_step = 0
    for event in events:
        if isinstance(event, Baseline):
            before = event.figures
        elif isinstance(event, StepMetrics) and event.evaluated:
            after, after_step = event.figures, event.step
        elif isinstance(event, Finished):
            recipe, run = start.recipe, event.outcome.run
            info = RLRunInfo(recipe.task, recipe.difficulty, start.folder.name, run.step,
                             planned, event.outcome.stopped_early, before, after or before,
                             after_step, time.time(),
                             (folder / CHECKPOINT).stat().st_size)  # fmt: skip
            write_text_atomically(folder / RUN_FILE, info.to_json())
        yield event


def read_info(folder: Path) -> RLRunInfo | None:
    """The run's summary if the run ended whole and its model is still there as it was
    left; None otherwise (no marker, a damaged one, a checkpoint gone or changed)."""
    try:
        info = RLRunInfo.from_json((folder / RUN_FILE).read_text(encoding="utf-8"))
        whole = (folder / CHECKPOINT).stat().st_size == info.checkpoint_bytes
        return info if whole and (folder / TOKENIZER).is_file() else None
    except (OSError, KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RLRunListing:
    record: RunRecord
    info: RLRunInfo | None  # None: the run never ended whole: nothing to use

    @property
    def usable(self) -> bool:
        return self.info is not None

    @property
    def task(self) -> str:
        return self.info.task if self.info else self.record.corpus.removeprefix(RL_CORPUS)

    @property
    def when(self) -> str:
        at = self.info.finished_at if self.info else self.record.updated_at
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))

    @property
    def label(self) -> str:
        """One line for the list: task, date, steps, pass@1 before → after."""
        i = self.info
        if i is None:
            return f"{self.task} · {self.when} · incomplete"
        return (f"{i.task} · {self.when} · {i.steps} steps · "
                f"{share(i.before)} → {share(i.after)}")  # fmt: skip

    @property
    def details(self) -> str:
        """Everything the list knows of the run, in a sentence or two."""
        i = self.info
        if i is None:
            return (f"{self.task}, {self.record.folder.name}: this run did not end whole "
                    f"(it was {self.record.status} at step {self.record.step}); there is "
                    "no model to export. Delete it to free its space.")  # fmt: skip
        how = "stopped early" if i.stopped else "finished"
        return (f"{i.task} (difficulty {i.difficulty}) from {i.start}: {i.steps} of "
                f"{i.planned_steps} steps, {how} {self.when}. Held-out first try right: "
                f"{share(i.before)} before → {share(i.after)} at step {i.after_step}"
                f"{k_part(i)}.")  # fmt: skip


def share(figures: dict[str, Any]) -> str:
    value = figures.get("pass_at_1")
    return f"{value:.0%}" if isinstance(value, (int, float)) else "?"


def k_part(info: RLRunInfo) -> str:
    before, after = info.before.get("pass_at_k"), info.after.get("pass_at_k")
    if not isinstance(before, (int, float)) or not isinstance(after, (int, float)):
        return ""
    return f" (pass@{info.after.get('k', 'K')} {before:.0%} → {after:.0%})"


def rl_runs(store: RunsStore) -> list[RLRunListing]:
    """Every recorded RL run whose folder is still there, newest first."""
    records = [r for r in store.runs() if r.corpus.startswith(RL_CORPUS)]
    records.sort(key=lambda r: r.id, reverse=True)  # ids follow the runs' starts
    return [RLRunListing(r, read_info(r.folder)) for r in records]


def delete_rl_run(store: RunsStore, listing: RLRunListing) -> None:
    """Remove the run's folder and its record. The marker goes first, so a deletion cut
    short leaves nothing that looks usable. Refuses a folder outside the tab's own."""
    folder = listing.record.folder
    if not folder.resolve().is_relative_to(reinforce_dir().resolve()):
        raise ValueError(f"{folder} is not one of the Reinforce tab's folders")
    (folder / RUN_FILE).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=False)
    store.delete(listing.record.id)

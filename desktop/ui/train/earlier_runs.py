"""The Train tab's "Earlier runs" row: every run in the runs table in a drop-down, with Open
(show its curves, to export it) and Resume (train on from its checkpoint) beside it. The
Reinforce tab's runs share the table but are not pretraining runs: they are left out.

It also reads a listed run back from its folder; what to do with it is the tab's business.
"""

from __future__ import annotations

from desktop.core.reinforce.folders import RUNS_PREFIX
from desktop.core.train.runs_store import RunRecord, RunsStore
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import TrainingRun
from desktop.ui.widgets.earlier_runs import EarlierRunsRow


class EarlierRuns(EarlierRunsRow):
    def __init__(self, store: RunsStore) -> None:
        super().__init__("Earlier runs", "No earlier runs yet", ("Open", "Resume"))
        self.store = store
        self.open_button, self.resume_button = self.buttons

    def reload(self, fallback: int | None) -> list[RunRecord]:
        """List the runs afresh. The selected run stays selected; with none selected yet,
        `fallback`'s run is, else the first. Returns the records listed."""
        records = [r for r in self.store.runs() if not r.corpus.startswith(RUNS_PREFIX)]
        select = fallback if self.combo.currentData() is None else None
        self.fill(((record.label, record.id) for record in records), select)
        return records

    @staticmethod
    def read(record: RunRecord) -> tuple[TrainingRun, TrainedTokenizer]:
        """The run's checkpoint and tokenizer: OSError, ValueError or KeyError if either is
        missing or damaged."""
        from desktop.core.train.checkpoint import load_checkpoint

        run = TrainingRun.resume(load_checkpoint(record.folder / "checkpoint.npz"))
        return run, TrainedTokenizer.load(record.folder / "tokenizer.json")

"""The Post-train tab's "Earlier runs" row: every fine-tuning run in a drop-down, with
Open (its curves and samples; export it) and Resume (train on from its checkpoint)."""

from __future__ import annotations

from desktop.core.posttrain.posttrain_runs import PosttrainRecord, PosttrainRuns
from desktop.ui.widgets.earlier_runs import EarlierRunsRow


class EarlierPosttrainRuns(EarlierRunsRow):
    def __init__(self, store: PosttrainRuns) -> None:
        super().__init__("Earlier fine-tuning runs", "None yet", ("Open", "Resume"), min_chars=12)
        self.store = store
        self.open_button, self.resume_button = self.buttons

    def reload(self, select: int | None = None) -> list[PosttrainRecord]:
        records = self.store.runs()
        self.fill(((record.label, record.id) for record in records), select)
        self.set_enabled(True)
        return records

    def selected(self) -> int | None:
        data = self.combo.currentData()
        return int(data) if data is not None else None

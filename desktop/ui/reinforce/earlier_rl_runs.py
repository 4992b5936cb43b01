"""The RL page's "Earlier RL runs" box: the recorded RL runs, newest first, with what the
chosen one did (task, start model, steps, held-out pass@1 before → after, when, finished
or stopped). Open (its curves, then export and chat) is offered only for a run that ended
whole (`rl_runs.read_info`); Delete for any, after asking."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QVBoxLayout

from desktop.core.reinforce.rl_runs import RLRunListing
from desktop.ui.widgets.earlier_runs import EarlierRunsRow
from desktop.ui.widgets.message_label import MessageLabel


class EarlierRLRuns(QGroupBox):
    def __init__(self) -> None:
        super().__init__("3. Earlier RL runs")
        self.row = EarlierRunsRow("Earlier RL runs", "none yet", ("Open", "Delete…"),
                                  min_chars=12, stacked=True)  # fmt: skip
        self.open_button, self.delete_button = self.row.buttons
        self.open_button.setToolTip("Show its curves; then export it and chat with it")
        self.delete_button.setToolTip("Delete the run's folder and its record")
        self.details = MessageLabel("")
        self.listings: list[RLRunListing] = []
        self._busy = False
        column = QVBoxLayout(self)
        column.addWidget(self.row)
        column.addWidget(self.details)
        self.row.combo.currentIndexChanged.connect(self._on_chosen)

    def show_runs(self, listings: list[RLRunListing], select: int | None = None) -> None:
        """List `listings` (newest first); `select`'s run id is chosen if listed."""
        self.listings = listings
        self.row.fill(((listing.label, listing.record.id) for listing in listings), select)
        self._on_chosen()

    def chosen(self) -> RLRunListing | None:
        run_id = self.row.selected()
        return next((x for x in self.listings if x.record.id == run_id), None)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._on_chosen()

    def _on_chosen(self) -> None:
        listing = self.chosen()
        self.details.setText(listing.details if listing else "RL runs are listed here.")
        self.row.set_enabled(not self._busy)
        self.open_button.setEnabled(not self._busy and listing is not None and listing.usable)

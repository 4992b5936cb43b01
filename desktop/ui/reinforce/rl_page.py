"""RL with verifiable rewards: make a start model (pretrain, SFT stopped part-way), run
RL on it with live curves and graded answers, pause or stop, spend the same time on more
SFT for the AlphaGo comparison, export the result and chat with it. Earlier RL runs are
listed: one that ended whole can be opened again (its curves; then export, chat, compare),
any can be deleted.

Every long job runs through `Jobs` on a worker thread with the app's thread policy (one
core for training, one for the window); the core generators report through
`JobControl.publish`, delivered here in batches 20 times a second.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton, QScrollArea, QSplitter, QVBoxLayout

from desktop.core.reinforce.folders import new_folder, reinforce_dir
from desktop.core.reinforce.rl_run import Baseline, more_sft, rl_job, run_rl
from desktop.core.reinforce.rl_runs import RL_CORPUS, delete_rl_run, read_info, recorded, rl_runs
from desktop.core.reinforce.start_model import Stage, StartModel, load_start_model, make_start_model
from desktop.core.storage.data_problems import ReadOnlyDatabase
from desktop.core.train.compute import ThreadPolicy
from desktop.core.train.run_training import Finished, TrainingOutcome
from desktop.core.train.runs_store import RunsStore
from desktop.core.train.trainer import StepMetrics
from desktop.engine.background import JobControl
from desktop.ui.reinforce.job_page import JobPage
from desktop.ui.reinforce.rl_controls import RLControls
from desktop.ui.reinforce.rl_progress import RLProgress

APP = ThreadPolicy.LEAVE_A_CORE


class RLPage(JobPage):
    exported = Signal(str)
    chat_requested = Signal(str)

    def __init__(self, store: RunsStore) -> None:
        super().__init__()
        self.store = store
        self.controls = RLControls()
        self.progress = RLProgress()
        self.start_model: StartModel | None = None
        self.outcome: TrainingOutcome | None = None  # the last RL run, or the one opened
        self.result_task = ""  # its task, for the exported model's name
        self.run_id: int | None = None
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(300)
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(self.progress)
        splitter.setSizes([320, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        c = self.controls
        c.make_button.clicked.connect(self.make_start)
        c.file_button.clicked.connect(lambda: self.start_from_file())
        c.run_button.clicked.connect(self.run_rl)
        c.pause_button.clicked.connect(self.toggle_pause)
        c.stop_button.clicked.connect(self.stop)
        c.compare_button.clicked.connect(self.compare_with_sft)
        c.export_button.clicked.connect(lambda: self.export())
        c.start.currentIndexChanged.connect(self._on_start_chosen)
        c.earlier.open_button.clicked.connect(lambda: self.open_run())
        c.earlier.delete_button.clicked.connect(lambda: self.delete_run())
        self._set_busy(False)
        self._on_start_chosen()
        self.reload_runs()

    # ---- the start model -------------------------------------------------------------

    @Slot()
    def make_start(self) -> None:
        recipe = self.controls.recipe()
        folder = new_folder(reinforce_dir(), f"start-{recipe.task}")

        def work(control: JobControl) -> Path:
            for event in make_start_model(recipe, folder, control, APP):
                control.publish(event)
            return folder

        self.progress.clear()
        self._begin("start", f"Pretraining a {recipe.task} model…")
        self.jobs.start("start", work, done=self._on_start_made, failed=self._failed,
                        partial=self._on_start_events)  # fmt: skip

    def _on_start_events(self, events: Sequence[Any]) -> None:
        for event in events:
            if isinstance(event, Stage):
                self._stage = event.name
            elif isinstance(event, StepMetrics) and event.evaluated:
                f = event.figures
                if "pass_at_1" in f:
                    self.controls.status.setText(
                        f"Fine-tuning: step {event.step}, first try right {f['pass_at_1']:.0%} "
                        f"of held-out questions (stops at {self.controls.target.value()} %)"
                    )
                    self.progress.samples.show_now(
                        f.get("samples", []), f"Start model at SFT step {event.step}"
                    )
                else:
                    self.controls.status.setText(
                        f"Pretraining: step {event.step}/{event.total_steps}, loss "
                        f"{event.loss:.3f}")  # fmt: skip

    def start_from_file(self, path: Path | None = None) -> None:
        """A GGUF exported earlier as the start model (its pass@1 measured first)."""
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            name, _ = QFileDialog.getOpenFileName(
                self, "Start RL from a model", "", "GGUF models (*.gguf)"
            )
            if not name:
                return
            path = Path(name)
        from desktop.core.reinforce.gguf_start import start_from_gguf

        c = self.controls
        task, difficulty = c.task_name, c.difficulty.value()
        folder = new_folder(reinforce_dir(), f"start-{task}")
        self._begin("start", f"Reading {path.name} and measuring its first tries…")
        self.jobs.start("start",
                        lambda _c: start_from_gguf(path, task, difficulty, folder).folder,
                        done=self._on_start_made, failed=self._failed)  # fmt: skip

    def _on_start_made(self, folder: Path) -> None:
        self._end()
        self.controls.reload_starts(select=folder)
        self._on_start_chosen()
        if self.start_model is not None:
            p1 = self.start_model.figures.get("pass_at_1")
            share = f"{p1:.0%}" if isinstance(p1, float) else "?"
            self.controls.status.setText(f"Start model ready: first try right {share} of "
                                         "held-out questions. Run RL.")  # fmt: skip

    @Slot()
    def _on_start_chosen(self) -> None:
        listing = self.controls.chosen_start()
        self.start_model = None
        if listing is not None:
            try:
                self.start_model = load_start_model(listing.folder)
            except (OSError, ValueError, KeyError) as exc:
                self.controls.status.setText(f"⚠ Cannot read that start model: {exc}")
        self._set_busy(False)

    # ---- RL ----------------------------------------------------------------------------

    @Slot()
    def run_rl(self) -> None:
        start = self.start_model
        if start is None or self.busy:
            return
        settings = self.controls.rl_settings()
        folder = new_folder(start.folder, "rl")
        with contextlib.suppress(ReadOnlyDatabase):
            self.run_id = self.store.add(folder, f"{RL_CORPUS}{start.recipe.task}", start.config)
        job = rl_job(start, settings, folder, policy=APP)

        def work(control: JobControl) -> TrainingOutcome | None:
            outcome = None
            for event in recorded(run_rl(job, control), folder, start, settings.steps):
                if isinstance(event, Finished):
                    outcome = event.outcome
                else:
                    control.publish(event)
            return outcome

        self.progress.clear()
        self.outcome, self.result_task = None, start.recipe.task
        self._begin("rl", "Sampling the start model's answers to the held-out questions…")
        self.jobs.start("rl", work, done=self._on_rl_done, failed=self._failed,
                        partial=self._on_rl_events)  # fmt: skip

    def _on_rl_events(self, events: Sequence[Any]) -> None:
        for event in events:
            if isinstance(event, Baseline):
                self.progress.baseline(event.figures)
                self.controls.status.setText("RL: the model practises, the verifier scores…")
            elif isinstance(event, StepMetrics):
                self.progress.step(event)

    def _on_rl_done(self, outcome: TrainingOutcome | None) -> None:
        self._end()
        self.outcome = outcome
        if outcome is None:
            return
        how = "Stopped" if outcome.stopped_early else "Done"
        self.controls.status.setText(
            f"{how} at step {outcome.run.step}. Export it to chat with it, or spend the same "
            "time on more SFT to compare.")  # fmt: skip
        self._record("stopped" if outcome.stopped_early else "done", outcome.run.step)
        self.reload_runs(select=self.run_id)
        self._set_busy(False)

    # ---- the AlphaGo comparison --------------------------------------------------------

    @Slot()
    def compare_with_sft(self) -> None:
        start, outcome = self.start_model, self.outcome
        if start is None or outcome is None or self.busy:
            return
        seconds = outcome.run.elapsed_s

        def work(control: JobControl) -> None:
            for event in more_sft(start, seconds, control, policy=APP):
                control.publish(event)

        self.progress.compare.clear("more SFT")
        self._begin("sft", f"More SFT for {seconds:.0f} s of training, as RL had…")
        self.jobs.start("sft", work, done=lambda _: self._on_compared(), failed=self._failed,
                        partial=self._on_sft_events)  # fmt: skip

    def _on_sft_events(self, events: Sequence[Any]) -> None:
        for event in events:
            if isinstance(event, StepMetrics):
                self.progress.more_sft(event)

    def _on_compared(self) -> None:
        self._end()
        rl = self.progress.compare.data("RL")[1]
        sft = self.progress.compare.data("more SFT")[1]
        if rl and sft:
            self.controls.status.setText(
                f"Same training time: RL reached {rl[-1]:.0%} first-try, more SFT {sft[-1]:.0%} "
                f"(from {rl[0]:.0%}).")  # fmt: skip
        self._set_busy(False)

    # ---- export ------------------------------------------------------------------------

    def export(self, folder: Path | None = None) -> None:
        """Write the RL'd model as a GGUF into the library, then open it in the Chat tab."""
        from desktop.core.models.library_folders import download_folder
        from desktop.core.train.trainer import export_gguf

        outcome, task = self.outcome, self.result_task
        if outcome is None or outcome.tokenizer is None or self.busy:
            return
        tokenizer = outcome.tokenizer
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = (folder or download_folder()) / "trained" / f"rl-{task}-{stamp}.gguf"
        target.parent.mkdir(parents=True, exist_ok=True)
        run_id = self.run_id
        self.controls.status.setText(f"Exporting {target.name}…")
        self.jobs.start(
            "export",
            lambda _c: export_gguf(outcome.run, tokenizer, target, name=f"deepdive-rl-{task}"),
            done=lambda path: self._on_exported(path, run_id),
            failed=lambda exc: self.controls.status.setText(f"⚠ Export failed: {exc}"),
        )

    def _on_exported(self, path: Path, run_id: int | None) -> None:
        self.controls.status.setText(f"Exported {path} — it is in the library and opens in Chat.")
        if run_id is not None:
            with contextlib.suppress(ReadOnlyDatabase):
                self.store.update(run_id, exported_path=str(path))
        self.exported.emit(str(path))
        self.chat_requested.emit(str(path))

    # ---- earlier runs ------------------------------------------------------------------

    def reload_runs(self, select: int | None = None) -> None:
        self.controls.earlier.show_runs(rl_runs(self.store), select)

    def open_run(self, run_id: int | None = None) -> bool:
        """Show an earlier run's curves and figures and make it the page's result (to
        export, chat with, compare). Only a run that ended whole opens."""
        from desktop.core.train.checkpoint import load_checkpoint
        from desktop.core.train.run_training import CHECKPOINT, TOKENIZER
        from desktop.core.train.trained_tokenizer import TrainedTokenizer
        from desktop.core.train.trainer import TrainingRun

        earlier = self.controls.earlier
        listing = earlier.chosen() if run_id is None else next(
            (x for x in earlier.listings if x.record.id == run_id), None)  # fmt: skip
        if listing is None or self.busy:
            return False
        folder = listing.record.folder
        info = read_info(folder)  # again: the folder may have changed since it was listed
        if info is None:
            self.controls.status.setText(f"⚠ {folder.name} did not end whole: nothing to open.")
            return False
        try:
            run = TrainingRun.resume(load_checkpoint(folder / CHECKPOINT))
            tokenizer = TrainedTokenizer.load(folder / TOKENIZER)
        except (OSError, ValueError, KeyError) as exc:
            self.controls.status.setText(f"⚠ Cannot open that run: {exc}")
            return False
        self.controls.choose_start(info.task, info.difficulty, folder.parent)
        self._on_start_chosen()
        self.outcome = TrainingOutcome(run, tokenizer, folder, info.stopped)
        self.result_task, self.run_id = info.task, listing.record.id
        self.progress.show_history(run.history, before=info.before)
        if info.after_step == run.step:  # the AlphaGo plot's RL end: its training time
            self.progress.compare.add("RL", run.elapsed_s, info.after.get("pass_at_1"))
        self.controls.status.setText(f"Opened the {info.task} run of {listing.when}: export it "
                                     "to chat with it, or compare it with more SFT.")  # fmt: skip
        self._set_busy(False)
        return True

    def delete_run(self, *, confirm: bool = True) -> bool:
        """Delete the chosen run's folder and record, after asking."""
        listing = self.controls.earlier.chosen()
        if listing is None or self.busy:
            return False
        if confirm:
            answer = QMessageBox.question(
                self, "Delete RL run", f"Delete the RL run “{listing.label}” and its folder "
                f"({listing.record.folder.name})? This cannot be undone.",
            )  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            delete_rl_run(self.store, listing)
        except (OSError, ValueError, ReadOnlyDatabase) as exc:
            self.controls.status.setText(f"⚠ Cannot delete that run: {exc}")
            self.reload_runs()
            return False
        if self.run_id == listing.record.id:
            self.outcome, self.run_id = None, None
        self.controls.status.setText(f"Deleted {listing.record.folder.name}.")
        self.reload_runs()
        self._set_busy(False)
        return True

    # ---- running -----------------------------------------------------------------------

    def status_label(self) -> QLabel:
        return self.controls.status

    def pause_button(self) -> QPushButton:
        return self.controls.pause_button

    def _failed(self, exc: BaseException) -> None:
        self._end()
        self.controls.status.setText(f"⚠ Stopped: {exc}")
        if self.run_id is not None and self.outcome is None:
            self._record("failed", 0)
        self.reload_runs()
        self._set_busy(False)

    def _record(self, status: str, step: int) -> None:
        if self.run_id is not None:
            with contextlib.suppress(ReadOnlyDatabase):
                self.store.update(self.run_id, status=status, step=step)

    def _set_busy(self, busy: bool) -> None:
        self.controls.set_busy(busy, has_result=self.outcome is not None)
        self.controls.run_button.setEnabled(not busy and self.start_model is not None)

    def shutdown(self) -> None:
        """Closing: stop the job under way (a run saves itself) and wait for it."""
        if self._kind == "rl" and self.run_id is not None:
            self._record("stopped", 0)
        self.jobs.shutdown(timeout=5.0)

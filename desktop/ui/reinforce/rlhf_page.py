"""RLHF: a person's preferences become a learned reward, and RL climbs it.

The writer (a tiny model that writes jokes, poems and story openings) answers a request
twice; the person picks the better answer or a tie, and the pair goes into the app's one
preference store — where the Chat tab's Compare window puts its votes too, and from
where JSONL goes out and comes in. A scripted rule can vote instead, for demos. The
reward model (the writer with a scalar head, Bradley–Terry loss) trains on every stored
pair but the ties, a fifth held out; then RL runs against it, and the curves show the
learned reward rising while agreement with the rule that made the pairs does or does not.
Long jobs run through `Jobs`, like the RL page's; those that train (the writer, the
reward model, RL) can be paused between steps and resumed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.reinforce.folders import new_folder, reinforce_dir, start_models
from desktop.core.reinforce.rl_run import Baseline, RLSettings, rl_job, run_rl
from desktop.core.reinforce.rlhf import (
    RewardModelJudge,
    RLHFEvaluation,
    reward_model_job,
    two_answers,
)
from desktop.core.reinforce.rlhf_run import WRITER_RECIPE, make_pairs
from desktop.core.reinforce.scripted_preference import SOURCE_SCRIPTED
from desktop.core.reinforce.start_model import (
    WRITER,
    StartModel,
    load_start_model,
    make_start_model,
)
from desktop.core.storage.data_problems import ReadOnlyDatabase
from desktop.core.storage.preference_jsonl import PreferenceFileError
from desktop.core.storage.preferences import PreferencePair, PreferenceStore
from desktop.core.train.compute import ThreadPolicy
from desktop.core.train.model import Params
from desktop.core.train.run_training import Finished, run_training
from desktop.core.train.trainer import StepMetrics
from desktop.engine.background import JobControl
from desktop.ui.reinforce.graded_samples import GradedSamples
from desktop.ui.reinforce.job_page import JobPage
from desktop.ui.reinforce.live_curves import LiveCurves
from desktop.ui.reinforce.preference_picker import PreferencePicker
from desktop.ui.reinforce.rlhf_controls import RLHFControls
from desktop.ui.widgets.message_label import MessageLabel

APP = ThreadPolicy.LEAVE_A_CORE
SOURCE_VOTE = "rlhf"  # PreferencePair.source of a vote cast on this page
PAUSABLE = frozenset({"writer", "reward", "rl"})  # the jobs that train, step by step
BLUE, ORANGE, GREEN, PURPLE = "#1F5FAD", "#E0620D", "#2E7D32", "#6A3D9A"
WHY = (
    "<b>Verifier or learned reward?</b> RL on a task a program checks cannot be fooled: "
    "the answer is right or it is not, so it can run for as long as it keeps improving. "
    "Here the reward is a model of what people preferred, learned from a few hundred "
    "pairs. It is right near the answers it was trained on and guesses elsewhere, and "
    "RL goes looking for where it guesses high: the learned reward keeps rising while "
    "the answers get no better by the rule (or the person) it was learned from — "
    "<i>reward hacking</i>. That is why RLHF runs briefly, with a KL penalty holding "
    "the policy near where it began."
)


class RLHFPage(JobPage):
    def __init__(self, preferences: PreferenceStore | None = None) -> None:
        super().__init__()
        self.preferences = preferences or PreferenceStore()
        self.controls = RLHFControls()
        self.picker = PreferencePicker()
        self.writer: StartModel | None = None
        self.reward: Params | None = None
        self._pair: tuple[str, str, str] | None = None
        self._rng = np.random.default_rng()
        self.step = 0  # the training step the job under way last reported
        self._held: float | None = None  # the reward model's last held-out accuracy
        self.reward_curves = LiveCurves("Reward model", "accuracy", "step",
                                        {"held out": (BLUE, False), "training": (ORANGE, True)},
                                        y_range=(0, 1))  # fmt: skip
        self.rl_reward = LiveCurves("Learned reward (held-out requests)", "reward", "RL step",
                                    {"mean reward": (GREEN, False)})  # fmt: skip
        self.rl_agreement = LiveCurves("By the rule that voted", "share", "RL step",
                                       {"rule likes": (PURPLE, False),
                                        "agreement": (BLUE, True)}, y_range=(0, 1))  # fmt: skip
        self.why = MessageLabel(WHY)
        self.samples = GradedSamples()
        self._build()
        self._connect()
        self._load_latest_writer()
        self._show_pair_count()

    def _build(self) -> None:
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(280)
        plots = QWidget()
        grid = QGridLayout(plots)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.reward_curves, 0, 0)
        grid.addWidget(self.rl_reward, 0, 1)
        grid.addWidget(self.rl_agreement, 1, 0)
        grid.addWidget(self.why, 1, 1)
        right = QSplitter()
        right.setOrientation(right.orientation().Vertical)
        right.addWidget(self.picker)
        right.addWidget(plots)
        right.addWidget(self.samples)
        right.setSizes([150, 330, 180])
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setSizes([300, 720])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _connect(self) -> None:
        c = self.controls
        c.make_writer_button.clicked.connect(self.make_writer)
        c.scripted_button.clicked.connect(self.add_scripted_pairs)
        c.import_button.clicked.connect(lambda: self.import_pairs())
        c.export_button.clicked.connect(lambda: self.export_pairs())
        c.reward_button.clicked.connect(self.train_reward_model)
        c.rl_button.clicked.connect(self.run_rlhf)
        c.pause_button.clicked.connect(self.toggle_pause)
        c.stop_button.clicked.connect(self.stop)
        self.picker.voted.connect(self.vote)
        self.picker.new_pair_requested.connect(self.new_pair)

    # ---- the writer --------------------------------------------------------------------

    def _load_latest_writer(self) -> None:
        for listing in start_models():
            if listing.task == WRITER:
                with contextlib.suppress(OSError, ValueError, KeyError):
                    self._use_writer(load_start_model(listing.folder))
                    return
        self._set_busy(False)

    @Slot()
    def make_writer(self) -> None:
        from dataclasses import replace

        recipe = replace(WRITER_RECIPE, sft_steps=self.controls.writer_steps.value())
        folder = new_folder(reinforce_dir(), "writer")

        def work(control: JobControl) -> StartModel | None:
            made = None
            for event in make_start_model(recipe, folder, control, APP):
                if isinstance(event, StartModel):
                    made = event
                elif isinstance(event, StepMetrics) and event.evaluated:
                    control.status(f"Writer: step {event.step}/{event.total_steps}, "
                                   f"loss {event.loss:.2f}")  # fmt: skip
            return made

        self._begin("writer", "Teaching the writer jokes, poems and story openings…")
        self.jobs.start("writer", work, done=self._on_writer, failed=self._failed,
                        status=self.controls.status.setText)  # fmt: skip

    def _on_writer(self, writer: StartModel | None) -> None:
        self._end()
        if writer is not None:
            self._use_writer(writer)
            self.controls.status.setText("The writer is ready: judge its answers above.")

    def _use_writer(self, writer: StartModel) -> None:
        self.writer = writer
        self.controls.writer_status.setText(f"Writer: {writer.folder.name}")
        self._set_busy(False)
        self.new_pair()

    # ---- preferences -------------------------------------------------------------------

    @Slot()
    def new_pair(self) -> None:
        if self.writer is None:
            self.picker.show_pair(None)
            return
        params = self.writer.params
        self._pair = two_answers(self.writer, params, self._rng, count=1)[0]
        self.picker.show_pair(self._pair)

    @Slot(str)
    def vote(self, vote: str) -> None:
        if self._pair is None or self.writer is None:
            return
        prompt, a, b = self._pair
        chosen, rejected = (b, a) if vote == "b" else (a, b)
        model = str(self.writer.folder)
        pair = PreferencePair(prompt, chosen, rejected, vote == "tie", model, model, SOURCE_VOTE)
        try:
            self.preferences.add(pair)
        except ReadOnlyDatabase as exc:
            self.controls.status.setText(f"⚠ Not stored: {exc}")
            return
        self._show_pair_count()
        self.new_pair()

    @Slot()
    def add_scripted_pairs(self) -> None:
        writer = self.writer
        if writer is None:
            return
        preference, count = self.controls.preference(), self.controls.pair_count.value()

        def work(_control: JobControl) -> list[Any]:
            return make_pairs(writer, preference, count, int(self._rng.integers(1 << 30)))

        self._begin("pairs", f"The rule ({preference.title}) votes on {count} pairs…")
        self.jobs.start("pairs", work, done=self._on_scripted, failed=self._failed)

    def _on_scripted(self, pairs: list[PreferencePair]) -> None:
        self._end()
        try:
            self.preferences.add_many(pairs)
        except ReadOnlyDatabase as exc:
            self.controls.status.setText(f"⚠ Not stored: {exc}")
        self._show_pair_count()

    def import_pairs(self, path: Path | None = None) -> None:
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, "Import preference pairs", "",
                                                  "JSON lines (*.jsonl)")  # fmt: skip
            if not name:
                return
            path = Path(name)
        try:
            added, known = self.preferences.import_jsonl(path)
        except (PreferenceFileError, ReadOnlyDatabase) as exc:
            self.controls.status.setText(f"⚠ {exc}")
            return
        self.controls.status.setText(f"Imported {added} pairs ({known} were already here).")
        self._show_pair_count()

    def export_pairs(self, path: Path | None = None) -> None:
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self, "Export preference pairs", "preferences.jsonl", "JSON lines (*.jsonl)"
            )
            if not name:
                return
            path = Path(name)
        try:
            count = self.preferences.export_jsonl(path)
        except OSError as exc:
            self.controls.status.setText(f"⚠ Cannot write {path.name}: {exc}")
            return
        self.controls.status.setText(f"Exported {count} pairs to {path}.")

    def _show_pair_count(self) -> None:
        pairs = self.preferences.pairs()
        by = {source: sum(p.source == source for p in pairs) for source in
              (SOURCE_VOTE, SOURCE_SCRIPTED)}  # fmt: skip
        others = len(pairs) - sum(by.values())
        ties = sum(p.tie for p in pairs)
        self.controls.pairs_status.setText(
            f"{len(pairs)} pairs stored: {by[SOURCE_VOTE]} voted here, {by[SOURCE_SCRIPTED]} "
            f"by a rule, {others} from Compare or files; {ties} ties (left out)."
        )

    # ---- the reward model and RL against it --------------------------------------------

    @Slot()
    def train_reward_model(self) -> None:
        writer = self.writer
        if writer is None:
            return
        pairs = self.preferences.pairs(ties=False)
        try:
            job = reward_model_job(
                writer,
                pairs,
                steps=self.controls.reward_steps.value(),
                folder=new_folder(writer.folder, "reward"),
                policy=APP,
            )
        except ValueError as exc:
            self.controls.status.setText(f"⚠ {exc}: vote on a few answers first.")
            return

        def work(control: JobControl) -> Params | None:
            params = None
            for event in run_training(job, control):
                if isinstance(event, StepMetrics):
                    control.publish(event)
                elif isinstance(event, Finished):
                    params = event.outcome.run.params
            return params

        self.reward_curves.clear()
        self.step, self._held = 0, None
        self._begin("reward", f"Training the reward model on {len(pairs)} pairs…")
        self.jobs.start("reward", work, done=self._on_reward, failed=self._failed,
                        partial=self._on_reward_steps)  # fmt: skip

    def _on_reward_steps(self, events: Sequence[Any]) -> None:
        for m in events:
            if not isinstance(m, StepMetrics):
                continue
            self.step = m.step
            if m.evaluated:
                self.reward_curves.add("held out", m.step, m.figures.get("reward_accuracy"))
                self.reward_curves.add("training", m.step, m.figures.get("train_accuracy"))
                self._held = m.figures.get("reward_accuracy", self._held)
            held = self._held
            said = (
                f": picks the preferred answer of {held:.0%} of held-out pairs"
                if held is not None
                else ""
            )
            self.controls.reward_status.setText(f"Step {m.step}/{m.total_steps}{said}.")

    def _on_reward(self, params: Params | None) -> None:
        self._end()
        self.reward = params
        self._set_busy(False)

    @Slot()
    def run_rlhf(self) -> None:
        writer, reward = self.writer, self.reward
        if writer is None or reward is None:
            return
        steps = self.controls.rl_steps.value()
        settings = RLSettings(steps=steps, samples=4, kl=self.controls.kl.value(),
                              eval_every=max(1, steps // 10))  # fmt: skip
        judge = RewardModelJudge(reward, writer)
        evaluation = RLHFEvaluation(judge, preference=self.controls.preference(), samples=4)
        job = rl_job(writer, settings, new_folder(writer.folder, "rlhf"), judge=judge,
                     evaluation=evaluation, policy=APP)  # fmt: skip

        def work(control: JobControl) -> None:
            for event in run_rl(job, control):
                if not isinstance(event, Finished):
                    control.publish(event)

        self.rl_reward.clear()
        self.rl_agreement.clear()
        self.step = 0
        self._begin("rl", "RL against the reward model…")
        self.jobs.start("rl", work, done=lambda _: self._on_rl_done(), failed=self._failed,
                        partial=self._on_rl_events)  # fmt: skip

    def _on_rl_events(self, events: Sequence[Any]) -> None:
        for event in events:
            if isinstance(event, Baseline):
                self._rl_point(0, event.figures)
                self.samples.show_before(event.figures.get("samples", []), "The writer")
            elif isinstance(event, StepMetrics):
                self.step = event.step
                self.controls.rl_status.setText(f"Step {event.step}/{event.total_steps}.")
                if event.evaluated:
                    self._rl_point(event.step, event.figures)
                    self.samples.show_now(event.figures.get("samples", []),
                                          f"After {event.step} RLHF steps")  # fmt: skip

    def _rl_point(self, step: int, f: dict[str, Any]) -> None:
        self.rl_reward.add("mean reward", step, f.get("mean_reward"))
        self.rl_agreement.add("rule likes", step, f.get("judge_score"))
        self.rl_agreement.add("agreement", step, f.get("agreement"))

    def _on_rl_done(self) -> None:
        self._end()
        self.controls.status.setText("RLHF done: compare the reward with the rule's verdict.")

    # ---- running -----------------------------------------------------------------------

    def status_label(self) -> QLabel:
        return self.controls.status

    def pause_button(self) -> QPushButton:
        return self.controls.pause_button

    def _failed(self, exc: BaseException) -> None:
        self._end()
        self.controls.status.setText(f"⚠ Stopped: {exc}")

    def _set_busy(self, busy: bool) -> None:
        self.controls.set_busy(busy, has_writer=self.writer is not None,
                               has_reward=self.reward is not None,
                               pausable=self._kind in PAUSABLE)  # fmt: skip
        self.picker.set_enabled(not busy and self.writer is not None)

    def shutdown(self) -> None:
        self.jobs.shutdown(timeout=5.0)

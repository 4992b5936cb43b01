"""The RLHF page's left column: the writer (the policy), the preference pairs (votes,
a scripted rule, JSONL in and out), the reward model, and RL against it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.reinforce.rlhf_run import RLHFPlan, parse_preference
from desktop.core.reinforce.scripted_preference import ScriptedPreference
from desktop.ui.reinforce.rl_controls import spin_box
from desktop.ui.widgets.message_label import MessageLabel

RULES = {"word:cat": "prefers answers with “cat”", "shorter": "prefers shorter answers"}


class RLHFControls(QWidget):
    def __init__(self) -> None:
        super().__init__()
        plan = RLHFPlan()
        self.writer_steps = spin_box(20, 20_000, plan.writer_steps, 50)
        self.make_writer_button = QPushButton("Make the writer")
        self.make_writer_button.setToolTip(
            "A tiny model fine-tuned to write jokes, two-line poems and story openings"
        )
        self.writer_status = MessageLabel("No writer yet.")
        self.pairs_status = MessageLabel("")
        self.rule = QComboBox()
        for key, text in RULES.items():
            self.rule.addItem(text, key)
        self.rule.setAccessibleName("Scripted preference")
        self.pair_count = spin_box(10, 5000, plan.pair_count, 50)
        self.scripted_button = QPushButton("Add scripted pairs")
        self.scripted_button.setToolTip("For demos without a person: the rule votes")
        self.import_button = QPushButton("Import JSONL…")
        self.export_button = QPushButton("Export JSONL…")
        self.reward_steps = spin_box(10, 5000, plan.reward_steps, 10)
        self.reward_button = QPushButton("Train the reward model")
        self.reward_status = MessageLabel("")
        self.rl_steps = spin_box(1, 5000, plan.steps, 10)
        self.kl = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=1.0, singleStep=0.01,
                                 value=plan.kl)  # fmt: skip
        self.rl_button = QPushButton("RL against the reward model")
        self.rl_status = MessageLabel("")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Hold training between two steps; Resume goes on")
        self.stop_button = QPushButton("Stop")
        self.status = MessageLabel("Make the writer, then vote on its answers (or add "
                                   "scripted pairs), train the reward model, run RL.")  # fmt: skip
        for widget, name in (
            (self.writer_steps, "Writer fine-tuning steps"),
            (self.pair_count, "Scripted pairs to add"),
            (self.reward_steps, "Reward model steps"),
            (self.rl_steps, "RLHF steps"),
            (self.kl, "RLHF KL penalty"),
        ):
            widget.setAccessibleName(name)
        self._layout()
        self.set_busy(False, has_writer=False, has_reward=False)

    def _layout(self) -> None:
        writer = QGroupBox("1. The writer (the policy)")
        form = QFormLayout(writer)
        form.addRow("Fine-tuning steps:", self.writer_steps)
        form.addRow(self.make_writer_button)
        form.addRow(self.writer_status)
        pairs = QGroupBox("2. Preferences")
        form = QFormLayout(pairs)
        form.addRow(self.pairs_status)
        form.addRow("Rule:", self.rule)
        form.addRow("Pairs:", self.pair_count)
        form.addRow(self.scripted_button)
        files = QHBoxLayout()
        files.addWidget(self.import_button)
        files.addWidget(self.export_button)
        form.addRow(files)
        reward = QGroupBox("3. Reward model (Bradley–Terry)")
        form = QFormLayout(reward)
        form.addRow("Steps:", self.reward_steps)
        form.addRow(self.reward_button)
        form.addRow(self.reward_status)
        rl = QGroupBox("4. RL against it")
        form = QFormLayout(rl)
        form.addRow("Steps:", self.rl_steps)
        form.addRow("KL penalty:", self.kl)
        form.addRow(self.rl_button)
        form.addRow(self.rl_status)
        running = QHBoxLayout()
        running.addWidget(self.pause_button)
        running.addWidget(self.stop_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        for box in (writer, pairs, reward, rl):
            column.addWidget(box)
        column.addLayout(running)
        column.addWidget(self.status)
        column.addStretch(1)

    def preference(self) -> ScriptedPreference:
        return parse_preference(str(self.rule.currentData()))

    def set_busy(
        self, busy: bool, *, has_writer: bool, has_reward: bool, pausable: bool = False
    ) -> None:
        """`pausable`: the job under way trains in steps (the scripted votes do not)."""
        self.make_writer_button.setEnabled(not busy)
        self.writer_steps.setEnabled(not busy)
        for widget in (self.scripted_button, self.reward_button):
            widget.setEnabled(not busy and has_writer)
        self.rl_button.setEnabled(not busy and has_writer and has_reward)
        self.import_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.pause_button.setEnabled(busy and pausable)
        self.pause_button.setText("Pause")

"""The RL page's left column: the task, the starting point (made here, stopped part-way),
RL's settings, the buttons that run, pause, stop, compare and export, and the earlier
RL runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.reinforce.count_letters import LENGTHS
from desktop.core.reinforce.folders import StartListing, start_models
from desktop.core.reinforce.rl_run import RLSettings
from desktop.core.reinforce.start_model import StartRecipe
from desktop.core.reinforce.task_list import TASKS
from desktop.ui.reinforce.earlier_rl_runs import EarlierRLRuns
from desktop.ui.widgets.message_label import MessageLabel

DIFFICULTY_HINTS = {
    "count-letters": lambda d: f"{LENGTHS[d]}-letter words",
    "add": lambda d: f"{d}-digit numbers",
    "sort": lambda d: f"lists of {(3, 4, 5, 7)[d - 1]}",
}


def spin_box(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setValue(value)
    return spin


class RLControls(QWidget):
    def __init__(self) -> None:
        super().__init__()
        defaults, recipe = RLSettings(), StartRecipe()
        self.recipe_base = recipe  # the model's shape and schedule; tests make it tiny
        self.task = QComboBox()
        for name, task in TASKS.items():
            self.task.addItem(task.title, name)
        self.difficulty = spin_box(1, 4, recipe.difficulty)
        self.difficulty.setSuffix("")
        self.target = spin_box(5, 95, round(recipe.target * 100), 5)
        self.target.setSuffix(" %")
        self.target.setToolTip(
            "Fine-tuning stops when the model gets this share of held-out "
            "questions right at the first try: room for RL to improve"
        )
        self.pretrain_steps = spin_box(0, 20_000, recipe.pretrain_steps, 50)
        self.sft_steps = spin_box(10, 50_000, recipe.sft_steps, 100)
        self.start = QComboBox()
        self.start.setAccessibleName("Start model")
        self.start.setPlaceholderText("none yet: make one")
        self.start.setMinimumContentsLength(12)  # labels are long: the column must not grow
        self.start.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.make_button = QPushButton("Make start model")
        self.file_button = QPushButton("Start from a GGUF…")
        self.file_button.setToolTip("A model this tab exported (or a Post-train run of one)")
        self.steps = spin_box(1, 100_000, defaults.steps, 50)
        self.samples = spin_box(2, 64, defaults.samples)
        self.prompts = spin_box(1, 64, defaults.prompts_per_step)
        self.learning_rate = QDoubleSpinBox(
            decimals=5, minimum=1e-5, maximum=0.01, singleStep=5e-5, value=defaults.learning_rate
        )
        self.kl = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=1.0, singleStep=0.01,
                                 value=defaults.kl)  # fmt: skip
        self.kl.setToolTip("How much moving away from the start model costs (0: nothing)")
        self.run_button = QPushButton("Run RL")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.compare_button = QPushButton("Same time on more SFT")
        self.compare_button.setToolTip(
            "The AlphaGo comparison: continue the start model's "
            "fine-tuning for as long as RL trained, on one plot"
        )
        self.export_button = QPushButton("Export GGUF and chat with it")
        self.status = MessageLabel("Pick a task, make a start model, then Run RL.")
        self.status.setWordWrap(True)
        self.earlier = EarlierRLRuns()
        self._layout()
        self.task.currentIndexChanged.connect(self._on_task)
        self.difficulty.valueChanged.connect(self._on_task)
        self._on_task()

    def _layout(self) -> None:
        what = QFormLayout()
        what.addRow("Task:", self.task)
        what.addRow("Difficulty:", self.difficulty)
        start_box = QGroupBox("1. Starting point (pretrain, then SFT)")
        start_form = QFormLayout(start_box)
        start_form.addRow("Stop SFT at first try:", self.target)
        start_form.addRow("Pretraining steps:", self.pretrain_steps)
        start_form.addRow("SFT steps at most:", self.sft_steps)
        start_form.addRow("Start model:", self.start)
        start_form.addRow(self.make_button)
        start_form.addRow(self.file_button)
        rl_box = QGroupBox("2. Reinforcement learning")
        rl_form = QFormLayout(rl_box)
        rl_form.addRow("Steps:", self.steps)
        rl_form.addRow("Answers per question (K):", self.samples)
        rl_form.addRow("Questions per step:", self.prompts)
        rl_form.addRow("Learning rate:", self.learning_rate)
        rl_form.addRow("KL penalty:", self.kl)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        rl_form.addRow(buttons)
        rl_form.addRow(self.compare_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(what)
        column.addWidget(start_box)
        column.addWidget(rl_box)
        column.addWidget(self.export_button)
        column.addWidget(self.status)
        column.addWidget(self.earlier)
        column.addStretch(1)

    @property
    def task_name(self) -> str:
        return str(self.task.currentData())

    def recipe(self) -> StartRecipe:
        return replace(self.recipe_base, task=self.task_name,
                       difficulty=self.difficulty.value(), target=self.target.value() / 100,
                       pretrain_steps=self.pretrain_steps.value(),
                       sft_steps=self.sft_steps.value())  # fmt: skip

    def rl_settings(self) -> RLSettings:
        return RLSettings(steps=self.steps.value(), prompts_per_step=self.prompts.value(),
                          samples=self.samples.value(), learning_rate=self.learning_rate.value(),
                          kl=self.kl.value())  # fmt: skip

    def _on_task(self) -> None:
        hint = DIFFICULTY_HINTS.get(self.task_name)
        self.difficulty.setToolTip(hint(self.difficulty.value()) if hint else "")
        self.difficulty.setSuffix(f"  ({hint(self.difficulty.value())})" if hint else "")
        self.reload_starts()

    def reload_starts(self, select: Path | None = None) -> None:
        """The saved start models of the chosen task; `select`'s is picked."""
        self.start.clear()
        for listing in start_models():
            if listing.task == self.task_name:
                self.start.addItem(listing.label, listing)
                self.start.setItemData(self.start.count() - 1, listing.label,
                                       Qt.ItemDataRole.ToolTipRole)  # fmt: skip
        if select is not None:
            for i in range(self.start.count()):
                if self.start.itemData(i).folder == select:
                    self.start.setCurrentIndex(i)

    def choose_start(self, task: str, difficulty: int, folder: Path) -> None:
        """Show `task` at `difficulty`, with the start model in `folder` chosen."""
        index = self.task.findData(task)
        if index >= 0:
            self.task.setCurrentIndex(index)
        self.difficulty.setValue(difficulty)
        self.reload_starts(select=folder)

    def chosen_start(self) -> StartListing | None:
        data = self.start.currentData()
        return data if isinstance(data, StartListing) else None

    def set_busy(self, busy: bool, *, running_rl: bool = False, has_result: bool = False) -> None:
        for widget in (self.task, self.difficulty, self.target, self.pretrain_steps,
                       self.sft_steps, self.start, self.make_button, self.file_button,
                       self.steps, self.samples, self.prompts, self.learning_rate, self.kl,
                       self.run_button):  # fmt: skip
            widget.setEnabled(not busy)
        self.pause_button.setEnabled(busy)
        self.stop_button.setEnabled(busy)
        self.pause_button.setText("Pause")
        self.compare_button.setEnabled(not busy and has_result)
        self.export_button.setEnabled(not busy and has_result)
        self.run_button.setEnabled(not busy and self.start.count() > 0)
        self.earlier.set_busy(busy)
        _ = running_rl

"""The right-hand panel: how the model is prompted (mode, identity, presets), sampling,
and what happens when a conversation outgrows the context."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat.chat_examples import CHAT_EXAMPLES
from desktop.core.chat.context_fit import OVERFLOW_POLICIES, OverflowPolicy
from desktop.core.chat.generation import LoadSettings, SamplingSettings
from desktop.core.chat.presets import PresetStore
from desktop.core.chat.prompt_builder import MODES, PromptMode
from desktop.core.models.cpu import physical_cores
from desktop.ui.app_settings import AppSettings
from desktop.ui.widgets.compact import compact


def _double(lo: float, hi: float, step: float, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setToolTip(tip)
    return box


def _int(lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setToolTip(tip)
    return box


MODE_CHOICES: dict[PromptMode, str] = {
    "template": "Chat template (the model's own format)",
    "base": "Base model as assistant (identity + examples)",
    "raw": "Raw text (the model continues it)",
}
MODE_TIPS: dict[PromptMode, str] = {
    "template": "The conversation is written in the chat format the model was trained on.",
    "base": "A base model only continues documents: the prompt is a transcript that begins "
    "with an identity and a few example exchanges, so its continuation is an answer.",
    "raw": "What you type is the whole prompt; the model simply continues the text, as a "
    "base model does. No turns, no stop at a user line.",
}
OVERFLOW_CHOICES: dict[OverflowPolicy, str] = {
    "drop oldest": "Drop the oldest turns",
    "truncate middle": "Drop turns from the middle",
    "stop": "Stop and say so",
}


class ChatSettingsPanel(QWidget):
    system_prompt_changed = Signal(str)
    view_prompt_requested = Signal()
    probabilities_toggled = Signal(bool)
    mode_changed = Signal(str)  # PromptMode, chosen by the person
    edit_base_prompt_requested = Signal()
    compare_modes_requested = Signal()
    example_chosen = Signal(int)  # an index into CHAT_EXAMPLES

    def __init__(self, settings: AppSettings, presets: PresetStore) -> None:
        super().__init__()
        self._settings = settings
        self._presets = presets

        identity = QGroupBox("Identity (system prompt)")
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setPlaceholderText("e.g. You are a patient tutor who explains simply.")
        self.system_prompt.setMaximumHeight(110)
        self.preset_combo = compact(QComboBox(), 8)
        self.save_preset_button = QPushButton("Save as preset…")
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_combo, 1)
        preset_row.addWidget(self.save_preset_button)
        box = QVBoxLayout(identity)
        box.addWidget(self.system_prompt)
        box.addLayout(preset_row)

        sampling = QGroupBox("Sampling")
        self.temperature = _double(0, 2, 0.05, "Higher: more random. 0: always the likeliest")
        self.top_p = _double(0, 1, 0.05, "Keep the likeliest tokens up to this total probability")
        self.top_k = _int(0, 1000, "Keep only the k likeliest tokens (0: all)")
        self.min_p = _double(0, 1, 0.01, "Drop tokens less likely than this × the best one")
        self.repeat_penalty = _double(1, 2, 0.05, "Make repeating recent tokens less likely")
        self.max_tokens = _int(1, 32768, "Longest reply, in tokens")
        self.seed = _int(-1, 2**31 - 1, "-1: a new random seed each time")
        self.context_size = _int(256, 131072, "Context window to load the model with")
        self.context_size.setSingleStep(512)
        self.threads = _int(0, 256, "CPU threads for llama.cpp; 0: automatic (physical cores, "
                                    "one fewer while a model trains in the Train tab)")  # fmt: skip
        self.threads.setSpecialValueText(f"auto ({physical_cores()})")
        self.overflow = compact(QComboBox(), 10)
        for policy in OVERFLOW_POLICIES:
            self.overflow.addItem(OVERFLOW_CHOICES[policy], policy)
        self.overflow.setToolTip("When the conversation no longer fits the model's context")
        form = QFormLayout(sampling)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Top-k", self.top_k)
        form.addRow("Min-p", self.min_p)
        form.addRow("Repeat penalty", self.repeat_penalty)
        form.addRow("Max tokens", self.max_tokens)
        form.addRow("Seed", self.seed)
        form.addRow("Context size (reload)", self.context_size)
        form.addRow("Threads", self.threads)
        form.addRow("Too long", self.overflow)

        prompting = QGroupBox("Prompt")
        self.mode = compact(QComboBox(), 18)
        for mode in ("template", "base", "raw"):
            self.mode.addItem(MODE_CHOICES[mode], mode)
            tip = Qt.ItemDataRole.ToolTipRole
            self.mode.setItemData(self.mode.count() - 1, MODE_TIPS[mode], tip)
        self.mode.setToolTip("How the conversation is turned into the text the model reads")
        self.edit_base_button = QPushButton("Edit identity and examples…")
        self.edit_base_button.setToolTip("The base-model prompt: editable, saved as presets")
        self.compare_button = QPushButton("Compare the modes on one question…")
        self.compare_button.setToolTip(
            "The same question as raw text, through the base-model prompt and through the "
            "chat template, side by side"
        )
        self.examples = compact(QComboBox(), 18)
        self.examples.addItem("Try an example…", -1)
        for index, example in enumerate(CHAT_EXAMPLES):
            self.examples.addItem(example.title, index)
        prompt_box = QVBoxLayout(prompting)
        prompt_box.addWidget(self.mode)
        prompt_box.addWidget(self.edit_base_button)
        prompt_box.addWidget(self.compare_button)
        prompt_box.addWidget(self.examples)
        self.show_probabilities = QCheckBox("Show token probabilities")
        self.show_probabilities.setToolTip("Colour each token by how likely the model found it")
        self.view_prompt_button = QPushButton("View prompt sent to the model…")

        layout = QVBoxLayout(self)
        layout.addWidget(prompting)
        layout.addWidget(identity)
        layout.addWidget(sampling)
        layout.addWidget(self.show_probabilities)
        layout.addWidget(self.view_prompt_button)
        layout.addStretch(1)

        self._load_values()
        self.reload_presets()
        self.preset_combo.activated.connect(self._apply_preset)
        self.save_preset_button.clicked.connect(self._save_preset)
        self.system_prompt.textChanged.connect(
            lambda: self.system_prompt_changed.emit(self.system_prompt.toPlainText())
        )
        self.view_prompt_button.clicked.connect(self.view_prompt_requested.emit)
        self.show_probabilities.toggled.connect(self.probabilities_toggled.emit)
        self.mode.activated.connect(lambda _i: self.mode_changed.emit(self.prompt_mode()))
        self.edit_base_button.clicked.connect(self.edit_base_prompt_requested.emit)
        self.compare_button.clicked.connect(self.compare_modes_requested.emit)
        self.examples.activated.connect(self._on_example)

    def _on_example(self, index: int) -> None:
        chosen = self.examples.itemData(index)
        self.examples.setCurrentIndex(0)
        if isinstance(chosen, int) and chosen >= 0:
            self.example_chosen.emit(chosen)

    # ---- prompt mode ---------------------------------------------------------------

    def prompt_mode(self) -> PromptMode:
        mode = self.mode.currentData()
        return mode if mode in MODES else "template"

    def set_mode(self, mode: PromptMode, *, has_template: bool = True) -> None:
        """Show `mode`; "chat template" can only be chosen for a model that has one."""
        item = self.mode.model().item(self.mode.findData("template"))  # type: ignore[attr-defined]
        item.setEnabled(has_template)
        item.setToolTip(MODE_TIPS["template"] if has_template else
                        "This model has no chat template: it is a base model.")  # fmt: skip
        self.mode.setCurrentIndex(self.mode.findData(mode))
        self.edit_base_button.setEnabled(mode == "base")
        self.system_prompt.setEnabled(mode != "raw")

    def overflow_policy(self) -> OverflowPolicy:
        policy = self.overflow.currentData()
        return policy if policy in OVERFLOW_POLICIES else "drop oldest"

    # ---- values --------------------------------------------------------------------

    def _load_values(self) -> None:
        get = self._settings.get
        self.temperature.setValue(get("chat/temperature"))
        self.top_p.setValue(get("chat/top_p"))
        self.top_k.setValue(get("chat/top_k"))
        self.min_p.setValue(get("chat/min_p"))
        self.repeat_penalty.setValue(get("chat/repeat_penalty"))
        self.max_tokens.setValue(get("chat/max_tokens"))
        self.seed.setValue(get("chat/seed"))
        self.context_size.setValue(get("chat/context_size"))
        self.threads.setValue(get("chat/threads"))
        index = self.overflow.findData(get("chat/overflow"))
        self.overflow.setCurrentIndex(max(0, index))
        self.show_probabilities.setChecked(get("chat/show_probabilities"))

    def save_values(self) -> None:
        s = self.sampling()
        put = self._settings.set
        put("chat/temperature", s.temperature)
        put("chat/top_p", s.top_p)
        put("chat/top_k", s.top_k)
        put("chat/min_p", s.min_p)
        put("chat/repeat_penalty", s.repeat_penalty)
        put("chat/max_tokens", s.max_tokens)
        put("chat/seed", s.seed)
        put("chat/context_size", self.context_size.value())
        put("chat/threads", self.threads.value())
        put("chat/overflow", self.overflow_policy())
        put("chat/show_probabilities", self.show_probabilities.isChecked())

    def sampling(self) -> SamplingSettings:
        return SamplingSettings(
            temperature=self.temperature.value(),
            top_p=self.top_p.value(),
            top_k=self.top_k.value(),
            min_p=self.min_p.value(),
            repeat_penalty=self.repeat_penalty.value(),
            max_tokens=self.max_tokens.value(),
            seed=self.seed.value(),
        )

    def load_settings(self) -> LoadSettings:
        return LoadSettings(context_size=self.context_size.value(), threads=self.threads.value())

    def set_system_prompt(self, text: str) -> None:
        self.system_prompt.blockSignals(True)
        self.system_prompt.setPlainText(text)
        self.system_prompt.blockSignals(False)

    # ---- presets -------------------------------------------------------------------

    def reload_presets(self) -> None:
        self.preset_combo.clear()
        self.preset_combo.addItem("Presets…", None)
        for preset in self._presets.list_presets():
            self.preset_combo.addItem(preset.name, preset.system_prompt)

    def _apply_preset(self, index: int) -> None:
        text = self.preset_combo.itemData(index)
        if text is not None:
            self.system_prompt.setPlainText(str(text))

    def _save_preset(self) -> None:
        name, ok = QInputDialog.getText(self, "Save preset", "Preset name:")
        if ok and name.strip():
            self.save_preset(name.strip())

    def save_preset(self, name: str) -> None:
        self._presets.save(name, self.system_prompt.toPlainText())
        self.reload_presets()

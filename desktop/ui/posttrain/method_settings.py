"""How to fine-tune: full or LoRA (rank, alpha, which matrices), epochs, learning rate and
its schedule, batch, context and the held-out share — and, before Start, what that costs:
parameters, memory for full fine-tuning and for LoRA against what is free, tokens, steps."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.formatting import format_bytes, format_count
from desktop.core.posttrain.gguf_weights import LlamaFacts
from desktop.core.posttrain.lora import LoraSpec, adapter_count
from desktop.core.posttrain.memory_plan import HEADROOM, planned_memory
from desktop.core.posttrain.sft_data import PreparedChat
from desktop.core.posttrain.sft_settings import (
    SftSettings,
    steps_for,
    suggested_learning_rate,
    suggested_plan,
)
from desktop.core.train.compute import ThreadPolicy
from desktop.ui.widgets.message_label import MessageLabel

TARGET_LABELS = {"attn_q": "q", "attn_k": "k", "attn_v": "v", "attn_output": "o",
                 "ffn_gate": "gate", "ffn_up": "up", "ffn_down": "down"}  # fmt: skip
METHODS = {"LoRA (adapters)": "lora", "Full (every weight)": "full"}


class MethodSettings(QWidget):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.rank = _spin(1, 256, 8)
        self.alpha = QDoubleSpinBox(decimals=1, minimum=0.5, maximum=1024.0, value=16.0)
        self.targets = {t: QCheckBox(label) for t, label in TARGET_LABELS.items()}
        for t, box in self.targets.items():
            box.setChecked(t in LoraSpec().targets)
            box.setToolTip(f"Adapt every layer's {t} matrix")
        self.epochs = QDoubleSpinBox(decimals=1, minimum=0.1, maximum=1000.0, value=3.0)
        self.learning_rate = QDoubleSpinBox(decimals=5, minimum=0.0, maximum=0.1, singleStep=1e-4)
        self.learning_rate.setSpecialValueText("auto")
        self.learning_rate.setToolTip("0 (auto): small steps for a pretrained model, larger "
                                      "for LoRA and for the Train tab's tiny models")  # fmt: skip
        self.schedule = QComboBox()
        self.schedule.addItems(["warmup + cosine", "constant"])
        self.batch = _spin(1, 64, 8)
        self.context = _spin(32, 8192, 512, 32)
        self.held_out = _spin(0, 50, 10)
        self.held_out.setSuffix(" %")
        self.summary = MessageLabel("")
        self.summary.setWordWrap(True)
        self._facts: LlamaFacts | None = None
        self._data: PreparedChat | None = None
        self._by_hand = False  # the person chose the method or epochs: a new model keeps them
        self._layout()
        for widget in (self.method, self.schedule):
            widget.currentIndexChanged.connect(self._changed)
        for spin in (self.rank, self.alpha, self.epochs, self.learning_rate, self.batch,
                     self.context, self.held_out):  # fmt: skip
            spin.valueChanged.connect(self._changed)
        for box in self.targets.values():
            box.toggled.connect(self._changed)
        self.method.activated.connect(self._chosen_by_hand)  # a person's choice only
        self.epochs.valueChanged.connect(self._chosen_by_hand)  # programmatic sets block it
        self._changed()

    def _layout(self) -> None:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Method:", self.method)
        lora = QHBoxLayout()
        lora.addWidget(self.rank)
        lora.addWidget(self.alpha)
        self.rank.setPrefix("rank ")
        self.alpha.setPrefix("alpha ")
        self.rank.setAccessibleName("LoRA rank")
        self.alpha.setAccessibleName("LoRA alpha")
        form.addRow("LoRA:", lora)
        grid = QGridLayout()
        for n, box in enumerate(self.targets.values()):
            grid.addWidget(box, n // 4, n % 4)
        form.addRow("Adapts:", grid)
        form.addRow("Epochs:", self.epochs)
        form.addRow("Learning rate:", self.learning_rate)
        form.addRow("Schedule:", self.schedule)
        form.addRow("Batch:", self.batch)
        form.addRow("Context:", self.context)
        form.addRow("Held out:", self.held_out)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.summary)

    def settings(self) -> SftSettings:
        targets = tuple(t for t, box in self.targets.items() if box.isChecked()) or ("attn_q",)
        return SftSettings(
            method="full" if METHODS[self.method.currentText()] == "full" else "lora",
            lora=LoraSpec(self.rank.value(), self.alpha.value(), targets),
            epochs=self.epochs.value(), learning_rate=self.learning_rate.value() or None,
            schedule="constant" if self.schedule.currentIndex() == 1 else "cosine",
            batch_size=self.batch.value(), context=self.context.value(),
            validation_share=self.held_out.value() / 100,
        )  # fmt: skip

    def show_settings(self, settings: SftSettings) -> None:
        """A reopened run's settings (its controls then say what it was trained with; its
        model, read next, does not replace them with what its size calls for)."""
        self._by_hand = True
        widgets = (self.method, self.rank, self.alpha, self.epochs, self.learning_rate,
                   self.schedule, self.batch, self.context, self.held_out,
                   *self.targets.values())  # fmt: skip
        for widget in widgets:
            widget.blockSignals(True)
        self.method.setCurrentIndex(0 if settings.method == "lora" else 1)
        self.rank.setValue(settings.lora.rank)
        self.alpha.setValue(settings.lora.alpha)
        for t, box in self.targets.items():
            box.setChecked(t in settings.lora.targets)
        self.epochs.setValue(settings.epochs)
        self.learning_rate.setValue(settings.learning_rate or 0.0)
        self.schedule.setCurrentIndex(1 if settings.schedule == "constant" else 0)
        self.batch.setValue(settings.batch_size)
        self.context.setValue(settings.context)
        self.held_out.setValue(round(settings.validation_share * 100))
        for widget in widgets:
            widget.blockSignals(False)
        self._changed()

    def set_model(self, facts: LlamaFacts | None) -> None:
        """A new model: the method and epochs its size calls for, unless chosen by hand."""
        self._facts = facts
        if facts is not None and not self._by_hand:
            method, epochs = suggested_plan(facts.parameters)
            for widget in (self.method, self.epochs):
                widget.blockSignals(True)
            self.method.setCurrentIndex(0 if method == "lora" else 1)
            self.epochs.setValue(epochs)
            for widget in (self.method, self.epochs):
                widget.blockSignals(False)
        self._changed()

    @Slot()
    def _chosen_by_hand(self) -> None:
        self._by_hand = True

    def set_data(self, data: PreparedChat | None) -> None:
        self._data = data
        self._changed()

    def set_editable(self, editable: bool) -> None:
        for widget in (self.method, self.rank, self.alpha, self.epochs, self.learning_rate,
                       self.schedule, self.batch, self.context, self.held_out,
                       *self.targets.values()):  # fmt: skip
            widget.setEnabled(editable)
        if editable:
            self._enable_lora()

    def _enable_lora(self) -> None:
        lora = METHODS[self.method.currentText()] == "lora"
        for widget in (self.rank, self.alpha, *self.targets.values()):
            widget.setEnabled(lora)

    def _changed(self) -> None:
        self._enable_lora()
        self.summary.setText(self.cost_text())
        self.changed.emit()

    def cost_text(self) -> str:
        """Parameters, memory for both methods against what is free, tokens and steps."""
        from desktop.core.models.system_memory import available_memory_bytes

        facts = self._facts
        if facts is None:
            return "Pick a model to see what fine-tuning it takes."
        settings = self.settings()
        shape = facts.shape
        need = planned_memory(shape, settings, ThreadPolicy.LEAVE_A_CORE)
        free = available_memory_bytes()
        free_text = f" of {format_bytes(free)} free" if free else ""
        lr = settings.learning_rate or suggested_learning_rate(settings.method, facts.parameters)
        adapters = adapter_count(settings.lora, shape)
        parts = [
            f"<b>{format_count(facts.parameters)}</b> parameters ({facts.weight_label}); LoRA "
            f"trains {format_count(adapters)} ({adapters / facts.parameters:.2%})",
            f"memory: full {format_bytes(need.full)}, LoRA {format_bytes(need.lora)}{free_text}",
        ]
        if free and (need.full if settings.method == "full" else need.lora) > free * HEADROOM:
            parts[-1] = f'<span style="color:#a40000">⚠ {parts[-1]}: too much</span>'
        if self._data is not None:
            steps = steps_for(settings, len(self._data.train))
            parts.append(f"{format_count(self._data.tokens)} tokens, "
                         f"{format_count(self._data.scored_tokens)} learned; {steps} steps "
                         f"at learning rate {lr:g}")  # fmt: skip
        return " · ".join(parts)


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setValue(value)
    return spin

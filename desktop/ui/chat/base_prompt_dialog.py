"""Edit the base-model prompt in place: the identity line and the example exchanges that
teach a base model to answer like an assistant. Saved as named presets.

Examples teach: a one-line answer teaches short answers, an "I don't know" teaches
refusing. The default set has neither; add them deliberately to see the effect.
"""

from __future__ import annotations

import json

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat.base_prompt import (
    ASSISTANT_LABEL,
    DEFAULT_STYLE,
    USER_LABEL,
    BasePromptStyle,
    stop_rule,
)
from desktop.ui.app_settings import AppSettings

HELP = (
    f"Write each example as a “{USER_LABEL}:” line followed by an “{ASSISTANT_LABEL}:” answer "
    "(answers may span several lines); separate examples with a blank line. " + stop_rule()
)


def examples_text(style: BasePromptStyle) -> str:
    return "\n\n".join(f"{USER_LABEL}: {q}\n{ASSISTANT_LABEL}: {a}" for q, a in style.examples)


def parse_examples(text: str) -> tuple[tuple[str, str], ...]:
    """`User: …` / `Assistant: …` blocks back into pairs; anything else is ignored."""
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    answer: list[str] = []
    for line in [*text.splitlines(), f"{USER_LABEL}:"]:  # the sentinel closes the last one
        if line.startswith(f"{USER_LABEL}:"):
            if question is not None and answer:
                pairs.append((question, "\n".join(answer).strip()))
            question, answer = line[len(USER_LABEL) + 1 :].strip(), []
        elif line.startswith(f"{ASSISTANT_LABEL}:") and question is not None:
            answer = [line[len(ASSISTANT_LABEL) + 1 :].strip()]
        elif answer:
            answer.append(line)
    return tuple((q, a) for q, a in pairs if q and a)


class BasePromptDialog(QDialog):
    def __init__(self, style: BasePromptStyle, settings: AppSettings, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Base-model prompt: identity and examples")
        self._settings = settings
        self.identity = QPlainTextEdit(style.identity)
        self.identity.setMaximumHeight(90)
        self.examples = QPlainTextEdit(examples_text(style))
        self.presets = QComboBox()
        self.save_button = QPushButton("Save as preset…")
        self.reset_button = QPushButton("Built-in")
        help_label = QLabel(HELP)
        help_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Presets:"))
        row.addWidget(self.presets, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.reset_button)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Identity (the first line of the prompt):"))
        layout.addWidget(self.identity)
        layout.addWidget(QLabel("Example exchanges:"))
        layout.addWidget(self.examples, 1)
        layout.addWidget(help_label)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(640, 560)
        self._reload_presets()
        self.presets.activated.connect(self._apply_preset)
        self.save_button.clicked.connect(self._save_preset)
        self.reset_button.clicked.connect(lambda: self.set_style(DEFAULT_STYLE))

    def prompt_style(self) -> BasePromptStyle:
        return BasePromptStyle(self.identity.toPlainText().strip() or DEFAULT_STYLE.identity,
                               parse_examples(self.examples.toPlainText()))  # fmt: skip

    def set_style(self, style: BasePromptStyle) -> None:
        self.identity.setPlainText(style.identity)
        self.examples.setPlainText(examples_text(style))

    def _stored(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self._settings.get("chat/base_style_presets") or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _reload_presets(self) -> None:
        self.presets.clear()
        self.presets.addItem("Presets…", None)
        for name in sorted(self._stored()):
            self.presets.addItem(name, name)

    def _apply_preset(self, index: int) -> None:
        name = self.presets.itemData(index)
        data = self._stored().get(str(name)) if name else None
        if isinstance(data, dict):
            self.set_style(BasePromptStyle.from_dict(data))

    def _save_preset(self) -> None:
        name, ok = QInputDialog.getText(self, "Save preset", "Preset name:")
        if ok and name.strip():
            self.save_preset(name.strip())

    def save_preset(self, name: str) -> None:
        presets = self._stored()
        presets[name] = self.prompt_style().to_dict()
        self._settings.set("chat/base_style_presets", json.dumps(presets))
        self._reload_presets()

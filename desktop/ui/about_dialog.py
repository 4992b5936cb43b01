"""About: what this installation is - the versions of its parts, this computer's CPU, and
which llama.cpp CPU variant runs models here (the portable build picks one at start-up;
a bug report is worthless without it).

The variant is known once a model has loaded (its host reports it). Before that, "Check"
asks a model host of its own: the bundled model loaded vocabulary-only, off the GUI thread,
in a child process like every llama.cpp call."""

from __future__ import annotations

import platform

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.models.cpu import cpu_model_name
from desktop.core.versions import part_versions
from desktop.engine.background import JobControl
from desktop.engine.jobs import Jobs

NOT_YET = "not known until a model loads"


def probe_runtime(_control: JobControl) -> str:
    """The llama.cpp build and CPU variant, from a model host of its own."""
    from desktop.core.chat.generation import LoadSettings
    from desktop.core.resources import bundled_models
    from desktop.engine.host_session import HostSession

    models = bundled_models()
    if not models:
        raise FileNotFoundError("no bundled model to ask llama.cpp with")
    session = HostSession()
    try:
        return session.load(str(models[0]), LoadSettings(vocab_only=True)).runtime
    finally:
        session.close()


class AboutDialog(QDialog):
    def __init__(self, runtime: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Deep Dive Lab")
        self.jobs = Jobs(self)
        form = QFormLayout()
        for package, version in part_versions().items():
            form.addRow(package, QLabel(version))
        form.addRow("Python", QLabel(platform.python_version()))
        form.addRow("CPU", QLabel(cpu_model_name()))
        self.runtime = QLabel(runtime or NOT_YET)
        self.runtime.setTextFormat(Qt.TextFormat.PlainText)
        self.runtime.setWordWrap(True)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Ask llama.cpp which CPU variant it runs here")
        self.check_button.setVisible(not runtime)
        self.check_button.clicked.connect(self.check_runtime)
        form.addRow("llama.cpp", self.runtime)
        form.addRow("", self.check_button)
        for label in self.findChildren(QLabel):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel("How an assistant like ChatGPT is made, one step at a time, on this "
                       "computer. Paste these lines into a bug report.")  # fmt: skip
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def check_runtime(self) -> None:
        self.check_button.setEnabled(False)
        self.runtime.setText("Asking llama.cpp…")
        self.jobs.start(
            "runtime",
            probe_runtime,
            done=self._show_runtime,
            failed=lambda exc: self._show_runtime(f"Could not tell: {exc}"),
        )

    def _show_runtime(self, text: str) -> None:
        self.runtime.setText(text)
        self.check_button.setEnabled(True)

    def text(self) -> str:
        """Every line as shown, for a bug report (and for tests)."""
        form = self.findChild(QFormLayout)
        assert form is not None
        lines = []
        for row in range(form.rowCount()):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            name_widget = label.widget() if label else None
            name = name_widget.text() if isinstance(name_widget, QLabel) else ""
            value = field.widget() if field else None
            if isinstance(value, QLabel):
                lines.append(f"{name}: {value.text()}")
        return "\n".join(lines)

"""The Quiz tab's side column: which model is asked, the run's settings, Run / Stop, and
progress with speed and time left."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.remote.servers import display_name
from desktop.core.resources import bundled_models
from desktop.engine.protocol import LoadedModel
from desktop.ui.quiz.settings_panel import QuizSettingsPanel
from desktop.ui.widgets.message_label import MessageLabel

NO_MODEL = "No model loaded: use the built-in one, or load one in the Chat tab."


class RunPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setFixedWidth(300)
        self.model_label = MessageLabel(NO_MODEL)
        self.model_label.setWordWrap(True)
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)  # a file name
        # offline first: the built-in model is one click away here too (it knows nothing:
        # a quiz shows exactly that), then any model through the Chat tab
        self.built_in = QPushButton("Use the built-in model")
        self.built_in.setToolTip("Load the tiny model that ships with the app (stays here)")
        self.to_chat = QPushButton("Go to Chat to load a model")
        self.settings_panel = QuizSettingsPanel()
        self.run_button = QPushButton("Run the quiz")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = MessageLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # file names, model names
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Model</b>"))
        layout.addWidget(self.model_label)
        layout.addWidget(self.built_in)
        layout.addWidget(self.to_chat)
        layout.addWidget(QLabel("<b>3 · Ask</b>"))
        layout.addWidget(self.settings_panel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.stop_button)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def show_model(self, model: LoadedModel | None, loading: str = "") -> None:
        if loading:
            self.model_label.setText(f"Loading {display_name(loading)}…")
        else:
            self.model_label.setText(display_name(model.path) if model else NO_MODEL)
        self.to_chat.setVisible(model is None and not loading)
        self.built_in.setVisible(model is None and not loading and bool(bundled_models()))

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.settings_panel.setEnabled(not running)

"""The API server's window: port, optional key, "allow other computers" (with what that
means), Start / Stop, the address clients use, the model they get, and a log of requests."""

from __future__ import annotations

import socket

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.engine.api_server.jobs import served_id
from desktop.ui.app_settings import AppSettings
from desktop.ui.server.server_switch import ServerSwitch
from desktop.ui.widgets.message_label import MessageLabel

LOG_LINES = 500
NETWORK_WARNING = (
    "Other computers on your network can then send requests to the loaded model (and "
    "learn which model it is)."
)


class ServerPanel(QDialog):
    def __init__(
        self, switch: ServerSwitch, settings: AppSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("API server")
        self.switch = switch
        self.settings = settings
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(int(settings.get("server/port")))
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional: clients then send it as a Bearer token")
        self.allow_network = QCheckBox("Allow other computers to use it")
        self.allow_network.setChecked(bool(settings.get("server/allow_network")))
        self.warning = MessageLabel("", plain=True)
        self.warning.setStyleSheet("color: #8a4b00;")
        self.switch_button = QPushButton("Start")
        self.address = MessageLabel("", plain=True)
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = MessageLabel("", plain=True)
        self.status = MessageLabel("", plain=True)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setPlaceholderText("Requests appear here.")
        self.log.setMinimumHeight(120)
        self.log.setAccessibleName("Requests the server answered")
        form = QFormLayout()
        form.addRow("Port:", self.port)
        form.addRow("API key:", self.key)
        form.addRow("", self.allow_network)
        row = QHBoxLayout()
        row.addWidget(self.switch_button)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addLayout(row)
        layout.addWidget(self.address)
        layout.addWidget(self.model)
        layout.addWidget(self.log, 1)
        self.resize(560, 460)
        self.switch_button.clicked.connect(self.toggle)
        self.allow_network.toggled.connect(self._show_warning)
        self.key.textChanged.connect(self._show_warning)
        switch.log_line.connect(self.add_log_line)
        switch.running_changed.connect(self._show_state)
        # from the engine's thread: every receiver is a Slot
        switch.engine.model_loaded.connect(self._on_model_loaded)
        for signal in (switch.engine.load_failed, switch.engine.model_crashed,
                       switch.engine.load_started):  # fmt: skip
            signal.connect(self._on_model_changed)
        self._show_warning()
        self._show_state(switch.running)

    @Slot()
    def toggle(self) -> None:
        if self.switch.running:
            self.switch.stop()
            return
        self.settings.set("server/port", self.port.value())
        self.settings.set("server/allow_network", self.allow_network.isChecked())
        problem = self.switch.start(self.port.value(), self.key.text().strip(),
                                    self.allow_network.isChecked())  # fmt: skip
        if problem:  # (started: the state change has said so)
            self.status.setText(f"⚠ {problem}")

    @Slot(str)
    def add_log_line(self, line: str) -> None:
        self.log.appendPlainText(line)

    @Slot()
    def _show_warning(self) -> None:
        if not self.allow_network.isChecked():
            self.warning.setText("Only programs on this computer can reach it (127.0.0.1).")
            return
        no_key = "" if self.key.text().strip() else " No API key is set: anyone who can reach "
        no_key += "this computer can use it." if no_key else ""
        self.warning.setText(f"⚠ {NETWORK_WARNING}{no_key}")

    @Slot(bool)
    def _show_state(self, running: bool) -> None:
        self.switch_button.setText("Stop" if running else "Start")
        for widget in (self.port, self.key, self.allow_network):
            widget.setEnabled(not running)
        if running:
            url = self.switch.url
            self.address.setText(f"Clients use {self.client_url(url)}")
            self.status.setText("Serving.")
        else:
            self.address.setText("Not serving. Start it to use the loaded model from any "
                                 "OpenAI client (base URL …/v1).")  # fmt: skip
            if not self.status.text().startswith("⚠"):
                self.status.setText("")
        self.show_model()

    def client_url(self, url: str) -> str:
        """The address to give clients: every interface is not an address to connect to."""
        if "0.0.0.0" not in url:
            return url
        here = url.replace("0.0.0.0", "127.0.0.1")
        there = url.replace("0.0.0.0", socket.gethostname())
        return f"{here} here, {there} from other computers"

    @Slot(object)
    def _on_model_loaded(self, _model: object) -> None:
        self.show_model()

    @Slot(str)
    def _on_model_changed(self, _text: str) -> None:
        self.show_model()

    def show_model(self) -> None:
        model = self.switch.engine.loaded_model
        if model is None:
            self.model.setText("No model is loaded: requests get an error until you load "
                               "one in the Chat tab.")  # fmt: skip
        else:
            self.model.setText(f"Serving the model loaded in the app as “{served_id(model)}”.")

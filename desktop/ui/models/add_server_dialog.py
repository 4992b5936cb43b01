"""Add a remote server: a known one or any address, an optional API key, and - before
anything is sent - the plain sentence saying what is sent where, which the person accepts.

Nothing leaves the computer while this dialog is open; the first request (the model list)
goes out only after OK.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core.remote.endpoint import KNOWN_SERVERS, EndpointError, normalise_base_url
from desktop.core.remote.endpoint import what_is_sent as sentence_for
from desktop.core.remote.servers import default_name
from desktop.ui.widgets.message_label import MessageLabel

OTHER = "Another server (type its address)"
KEY_NOTE = (
    "The key is kept in the operating system's keyring, never in the app's settings. "
    "Servers on this computer (Ollama, LM Studio, llama.cpp) usually need none."
)


class AddServerDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a remote server")
        self.preset = QComboBox()
        for name, url in KNOWN_SERVERS:
            self.preset.addItem(name, url)
        self.preset.addItem(OTHER, "")
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://api.example.com/v1")
        self.name = QLineEdit()
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional")
        key_note = QLabel(KEY_NOTE)  # our own words: a plain wrapping label fits them
        key_note.setWordWrap(True)
        key_note.setStyleSheet("color: #555;")
        self.disclosure = MessageLabel("", plain=True)  # the sentence: what is sent where
        self.disclosure.setStyleSheet(
            "background: #eef4fb; border: 1px solid #9bb7d4; padding: 6px; color: #17324d;"
        )
        self.understood = QCheckBox("I have read where my messages will go")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add and list models")
        form = QFormLayout()
        form.addRow("Server:", self.preset)
        form.addRow("Address (base URL):", self.url)
        form.addRow("Name:", self.name)
        form.addRow("API key:", self.key)
        form.addRow("", key_note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.disclosure)
        layout.addWidget(self.understood)
        layout.addWidget(self.buttons)
        self.resize(580, 320)
        self._name_typed = False
        self.name.textEdited.connect(lambda _text: setattr(self, "_name_typed", True))
        self.preset.currentIndexChanged.connect(self._on_preset)
        self.url.textChanged.connect(self._on_url)
        self.understood.toggled.connect(self._update_ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._on_preset()

    @Slot()
    def _on_preset(self) -> None:
        url = str(self.preset.currentData() or "")
        self.url.setText(url)
        if not url:
            self.url.setFocus()

    @Slot()
    def _on_url(self) -> None:
        """A new address is a new sentence: it must be read again."""
        self.understood.setChecked(False)
        url = self.base_url()
        if url:
            self.disclosure.setText(sentence_for(url))
            if not self._name_typed:  # the preset's name, or the host
                self.name.setText(default_name(url))
        else:
            typed = self.url.text().strip()
            self.disclosure.setText(
                self._url_problem(typed) if typed else "Type the server's address first."
            )
        self._update_ok()

    @staticmethod
    def _url_problem(text: str) -> str:
        try:
            normalise_base_url(text)
        except EndpointError as exc:
            return str(exc)
        return ""

    def base_url(self) -> str:
        """The address as the client will use it, or "" when it is not one."""
        try:
            return normalise_base_url(self.url.text()) if self.url.text().strip() else ""
        except EndpointError:
            return ""

    @Slot()
    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.base_url()) and self.understood.isChecked())

    def values(self) -> tuple[str, str, str]:
        """(name, base URL, key) as entered."""
        url = self.base_url()
        return self.name.text().strip() or default_name(url), url, self.key.text().strip()

"""Servers: OpenAI-compatible servers (together.ai, OpenRouter, Ollama, LM Studio, vLLM,
llama.cpp's server, this app's own) and the models they serve.

Add a server (the sentence about what is sent where comes first), list its models off the
GUI thread, and pick models: picked models appear in the Chat tab's model list (and so in
the Quiz tab and Compare) like local ones. Servers and picks are kept in the settings; API
keys in the operating system's keyring, read and written off the GUI thread too (a keyring
may wait for the person to unlock it).
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.remote.client import RemoteModelInfo
from desktop.core.remote.endpoint import RemoteModel, what_is_sent
from desktop.core.remote.errors import RemoteError
from desktop.core.remote.servers import SavedServer, servers_from_json, servers_to_json
from desktop.engine.background import JobControl
from desktop.engine.jobs import Jobs
from desktop.ui.app_settings import AppSettings
from desktop.ui.widgets.message_label import MessageLabel

HINTS = {  # what to do next, by RemoteError.kind
    "key": " Press “API key…” to paste a new one.",
    "unreachable": " Is the server running? Then press “List models” again.",
}


class ServersPanel(QWidget):
    changed = Signal()  # the picked models changed: pickers re-read `remote_models()`
    chat_requested = Signal(str)  # a remote model's path, to load in the Chat tab

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.servers = servers_from_json(self.settings.get("remote/servers"))
        self.listed: dict[str, list[RemoteModelInfo]] = {}  # base URL -> its models, this session
        self.jobs = Jobs(self)  # kinds: "list" (a newer listing replaces the older), "key"
        self.server_list = QListWidget()
        self.server_list.setAccessibleName("Remote servers")
        self.add_button = QPushButton("Add server…")
        self.key_button = QPushButton("API key…")
        self.remove_button = QPushButton("Remove")
        self.title = MessageLabel("", plain=True)
        self.title.setStyleSheet("font-weight: bold;")
        self.disclosure = MessageLabel("", plain=True)
        self.disclosure.setStyleSheet("color: #17324d;")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter models")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter the server's models")
        self.list_button = QPushButton("List models")
        self.model_list = QListWidget()
        self.model_list.setAccessibleName("The server's models (★ in the model lists)")
        self.pick_button = QPushButton("Add to model lists")
        self.chat_button = QPushButton("Chat with this model")
        self.status = MessageLabel("", plain=True)  # server text: never markup
        self._layout()
        self.add_button.clicked.connect(self.ask_to_add)
        self.key_button.clicked.connect(self.ask_for_key)
        self.remove_button.clicked.connect(self.remove_current)
        self.server_list.currentRowChanged.connect(self._on_server)
        self.list_button.clicked.connect(self.list_current)
        self.filter.textChanged.connect(self._fill_models)
        self.model_list.currentRowChanged.connect(self._update_buttons)
        self.model_list.itemDoubleClicked.connect(lambda _item: self.chat_current())
        self.pick_button.clicked.connect(self.toggle_pick)
        self.chat_button.clicked.connect(self.chat_current)
        self._fill_servers()

    def _layout(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.server_list, 1)
        row = QHBoxLayout()
        for button in (self.add_button, self.key_button, self.remove_button):
            row.addWidget(button)
        column.addLayout(row)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addWidget(self.disclosure)
        row = QHBoxLayout()
        row.addWidget(self.filter, 1)
        row.addWidget(self.list_button)
        column.addLayout(row)
        column.addWidget(self.model_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.pick_button)
        row.addWidget(self.chat_button)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.status)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([300, 700])
        QVBoxLayout(self).addWidget(splitter)

    # ---- the servers ---------------------------------------------------------------

    def remote_models(self) -> list[RemoteModel]:
        return self.servers.remote_models()

    @property
    def current(self) -> SavedServer | None:
        row = self.server_list.currentRow()
        return self.servers.servers[row] if 0 <= row < len(self.servers.servers) else None

    def _save(self) -> None:
        self.settings.set("remote/servers", servers_to_json(self.servers))
        self.changed.emit()

    def _fill_servers(self, select: str = "") -> None:
        self.server_list.blockSignals(True)
        self.server_list.clear()
        for server in self.servers.servers:
            item = QListWidgetItem(server.name)
            item.setToolTip(server.base_url)
            self.server_list.addItem(item)
        self.server_list.blockSignals(False)
        urls = [s.base_url for s in self.servers.servers]
        row = urls.index(select) if select in urls else min(0, len(urls) - 1)
        self.server_list.setCurrentRow(row)
        self._on_server()

    @Slot()
    def ask_to_add(self) -> None:
        from desktop.ui.models.add_server_dialog import AddServerDialog

        dialog = AddServerDialog(self)
        if dialog.exec():
            self.add_server(*dialog.values())

    def add_server(self, name: str, base_url: str, key: str = "") -> None:
        """Keep the server (its what-is-sent sentence was accepted), then save the key
        and list the models, both off the GUI thread."""
        old = self.servers.find(base_url)
        models = old.models if old is not None else ()
        self.servers.put(SavedServer(name, base_url, models, acknowledged=True))
        self._save()
        self._fill_servers(select=base_url)
        self.list_models(base_url, new_key=key)

    @Slot()
    def remove_current(self) -> None:
        server = self.current
        if server is None:
            return
        self.servers.remove(server.base_url)
        self.listed.pop(server.base_url, None)
        self._save()
        self._fill_servers()
        self._forget_key(server.base_url)

    @Slot()
    def ask_for_key(self) -> None:
        server = self.current
        if server is None:
            return
        key, ok = QInputDialog.getText(
            self, "API key", f"The API key for {server.name} (empty: no key).\n"
            "It is kept in the operating system's keyring.", QLineEdit.EchoMode.Password,
        )  # fmt: skip
        if ok:
            self.set_key(key)

    def set_key(self, key: str) -> None:
        """A new key for the selected server (empty: forget it), then list its models."""
        server = self.current
        if server is not None:
            self.list_models(server.base_url, new_key=key.strip(), key_given=True)

    def _forget_key(self, base_url: str) -> None:
        from desktop.core.remote.keys import forget_key

        self.jobs.start("key", lambda _control: forget_key(base_url))

    # ---- the models ----------------------------------------------------------------

    @Slot()
    def list_current(self) -> None:
        server = self.current
        if server is None:
            return
        if not server.acknowledged and not self._acknowledge(server):
            return
        self.list_models(server.base_url)

    def _acknowledge(self, server: SavedServer) -> bool:
        """A server from an older settings file: the sentence first, then the request."""
        sentence = what_is_sent(server.base_url)
        answer = QMessageBox.question(self, "Before the first request", sentence)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.servers.put(SavedServer(server.name, server.base_url, server.models, True))
        self._save()
        return True

    def list_models(self, base_url: str, new_key: str = "", key_given: bool = False) -> None:
        """Ask the server for its models on a worker thread (saving a new key first)."""
        from desktop.core.remote.client import list_models
        from desktop.core.remote.keys import forget_key, save_key

        def work(_control: JobControl) -> tuple[str, list[RemoteModelInfo]]:
            note = ""
            if new_key:
                note = save_key(base_url, new_key)
            elif key_given:
                forget_key(base_url)
            return note, list_models(base_url)

        self.status.setText("Asking the server for its models…")
        self.list_button.setEnabled(False)
        self.jobs.start("list", work, done=lambda result: self._on_listed(base_url, result),
                        failed=self._on_list_failed)  # fmt: skip

    def _on_listed(self, base_url: str, result: object) -> None:
        note, models = cast("tuple[str, list[RemoteModelInfo]]", result)
        self.listed[base_url] = models
        self.list_button.setEnabled(True)
        count = f"{len(models)} model{'s' if len(models) != 1 else ''}"
        self.status.setText(f"{note} {count} listed.".strip() if note else f"{count} listed.")
        if self.current is not None and self.current.base_url == base_url:
            self._fill_models()

    def _on_list_failed(self, exc: BaseException) -> None:
        self.list_button.setEnabled(True)
        if isinstance(exc, RemoteError):
            self.status.setText(f"⚠ {exc}{HINTS.get(exc.kind, '')}")
        else:
            self.status.setText(f"⚠ The model list could not be read: {exc}")

    @Slot()
    def _on_server(self) -> None:
        server = self.current
        self.title.setText(f"{server.name} · {server.base_url}" if server else "")
        self.disclosure.setText(
            what_is_sent(server.base_url) if server else
            "Add a server to use its models in the Chat and Quiz tabs and in Compare."
        )  # fmt: skip
        for widget in (self.key_button, self.remove_button, self.list_button, self.filter):
            widget.setEnabled(server is not None)
        self._fill_models()

    def _fill_models(self) -> None:
        server = self.current
        self.model_list.clear()
        if server is None:
            self._update_buttons()
            return
        listed = {m.id: m for m in self.listed.get(server.base_url, [])}
        # picked models first (known even before this session's list), then the rest
        ids = [*server.models, *(i for i in listed if i not in server.models)]
        wanted = self.filter.text().strip().lower()
        for model_id in ids:
            if wanted and wanted not in model_id.lower():
                continue
            info = listed.get(model_id)
            context = f" · context {info.context_length:,}" if info and info.context_length else ""
            picked = "★ " if model_id in server.models else ""
            item = QListWidgetItem(f"{picked}{model_id}{context}")
            item.setData(Qt.ItemDataRole.UserRole, model_id)
            self.model_list.addItem(item)
        if not ids and server.base_url not in self.listed:
            self.status.setText("Press “List models” to see what this server offers.")
        self._update_buttons()

    def current_model(self) -> str:
        item = self.model_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    @Slot()
    def _update_buttons(self) -> None:
        server, model = self.current, self.current_model()
        picked = server is not None and model in server.models
        self.pick_button.setText("Remove from model lists" if picked else "Add to model lists")
        self.pick_button.setEnabled(bool(model))
        self.chat_button.setEnabled(bool(model))

    def select_model(self, model_id: str) -> None:
        for row in range(self.model_list.count()):
            if self.model_list.item(row).data(Qt.ItemDataRole.UserRole) == model_id:
                self.model_list.setCurrentRow(row)
                return

    @Slot()
    def toggle_pick(self) -> None:
        server, model = self.current, self.current_model()
        if server is None or not model:
            return
        picked = model in server.models
        self.servers.put(server.without_model(model) if picked else server.with_model(model))
        self._save()
        self._fill_models()
        self.select_model(model)

    @Slot()
    def chat_current(self) -> None:
        """Pick the model (so the Chat tab lists it) and load it there."""
        server, model = self.current, self.current_model()
        if server is None or not model:
            return
        if model not in server.models:
            self.toggle_pick()
        self.chat_requested.emit(RemoteModel(server.base_url, model).path)

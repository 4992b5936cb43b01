"""The Models tab: Discover (the Hub), Library (this computer) and Servers (remote models),
with the download queue below them, so a download can be watched from any page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QInputDialog, QLineEdit, QSplitter, QTabWidget, QVBoxLayout, QWidget

from desktop.core.hub.catalogue import RepoListing
from desktop.core.hub.gguf_files import GGUFModelFile
from desktop.core.hub.hub_errors import explain
from desktop.core.hub.partials import find_partial_downloads
from desktop.core.models.library_folders import MissingFolderError, download_folder, library_folders
from desktop.engine.download_queue import DownloadQueue
from desktop.engine.jobs import Jobs
from desktop.ui.models.discover_panel import DiscoverPanel
from desktop.ui.models.download_list import DownloadList
from desktop.ui.models.library_panel import LibraryPanel
from desktop.ui.models.servers_panel import ServersPanel
from desktop.ui.widgets.plain_text import html_text, warning_html


class ModelsTab(QWidget):
    chat_requested = Signal(str)  # a model file to open in the Chat tab
    library_changed = Signal()

    def __init__(
        self,
        queue: DownloadQueue | None = None,
        in_use: Callable[[Path], bool] = lambda _path: False,
    ) -> None:
        """`in_use`: whether a file is the loaded model, which the library will not delete."""
        super().__init__()
        self.queue = queue or DownloadQueue()
        self.discover = DiscoverPanel()
        self.library = LibraryPanel(in_use)
        self.downloads = DownloadList(self.queue)
        self.servers = ServersPanel()
        self.pages = QTabWidget()
        self.pages.addTab(self.discover, "Discover")
        self.pages.addTab(self.library, "Library")
        self.pages.addTab(self.servers, "Servers")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.pages)
        splitter.addWidget(self.downloads)
        splitter.setSizes([520, 170])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.discover.download_requested.connect(self.download)
        self.library.chat_requested.connect(self.chat_requested.emit)
        self.library.changed.connect(self.library_changed.emit)
        self.servers.chat_requested.connect(self.chat_requested.emit)
        self.queue.item_finished.connect(self._on_downloaded)
        self.queue.item_failed.connect(self._on_download_failed)
        self.downloads.token_requested.connect(lambda: self.ask_for_token())
        self.jobs = Jobs(self)  # kind: "token"
        self._restore_interrupted()

    @Slot(object, object)
    def download(self, listing: RepoListing, model: GGUFModelFile) -> None:
        try:
            folder = download_folder()
        except MissingFolderError as exc:
            self.downloads.note.setText(warning_html(str(exc)))
            return
        self.queue.add(listing.repo_id, listing.revision, model.parts, folder)

    def _restore_interrupted(self) -> None:
        """Unfinished downloads of earlier runs, in every library folder still there."""
        for folder in library_folders():
            if folder.is_dir():
                self.queue.restore(find_partial_downloads(folder), folder)

    @Slot(int, str)
    def _on_downloaded(self, _item_id: int, path: str) -> None:
        self.library.refresh(select=Path(path))
        self.downloads.note.setText(html_text(f"✓ {Path(path).name} is in the library."))

    @Slot(int, str)
    def _on_download_failed(self, item_id: int, message: str) -> None:
        gated = self.queue.get(item_id).error_kind in ("gated", "unauthorized")
        hint = " Press “Hub token…” to add one." if gated else ""
        self.downloads.note.setText(warning_html(f"{message}{hint}"))

    def ask_for_token(self, token: str | None = None) -> None:
        from desktop.core.hub.token import save_token

        if token is None:
            token, ok = QInputDialog.getText(
                self, "Hugging Face access token",
                "Paste an access token (huggingface.co → Settings → Access Tokens).\n"
                "It is stored by huggingface_hub, like `hf auth login` does.",
                QLineEdit.EchoMode.Password,
            )  # fmt: skip
            if not ok:
                return
        self.jobs.start(
            "token",
            lambda _c: save_token(token or ""),
            done=lambda name: self._token_saved(str(name)),
            failed=lambda exc: self.downloads.note.setText(warning_html(str(explain(exc)))),
        )

    def _token_saved(self, name: str) -> None:
        self.downloads.note.setText(html_text(f"Token saved: signed in to the Hub as {name}."))
        for item in self.queue.items:
            if item.state == "failed" and item.error_kind in ("gated", "unauthorized"):
                self.queue.resume(item.id)

    def shutdown(self) -> None:
        """Closing: a running download pauses (it resumes next time). Searches, scans and
        listings are jobs: `Jobs.shutdown_all` ends them with every other widget's."""
        self.queue.shutdown()

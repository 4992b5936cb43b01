"""Discover: search the Hub, see a repository's GGUF files and how they fit, download.

Every Hub call runs as a job of its kind; a newer search or repository cancels (and
disconnects) the older one, so typing never freezes the window and a slow answer never
overwrites a newer one.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.hub.catalogue import SORT_KEYS, RepoListing, RepoSummary
from desktop.core.hub.fit import rate_models
from desktop.core.hub.gguf_files import GGUFModelFile, is_projector
from desktop.core.hub.hub_errors import explain
from desktop.core.hub.suggested import SUGGESTED
from desktop.core.models.model_info import ModelInfo
from desktop.core.models.system_memory import available_memory_bytes
from desktop.engine.background import JobControl
from desktop.engine.jobs import Jobs
from desktop.ui.models.hub_columns import FILE_COLUMNS, REPO_COLUMNS, RatedModel
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.plain_text import html_text, warning_html
from desktop.ui.widgets.record_table import RecordTableModel
from desktop.ui.widgets.record_view import RecordView

SEARCH_DELAY_MS = 350
SORT_LABELS = {"downloads": "Most downloads", "likes": "Most likes",
               "last_modified": "Recently updated"}  # fmt: skip


class DiscoverPanel(QWidget):
    download_requested = Signal(object, object)  # RepoListing, GGUFModelFile
    searched = Signal(int)  # how many results arrived
    listed = Signal(str)  # a repository's files arrived

    def __init__(self) -> None:
        super().__init__()
        self.search_edit = QLineEdit()
        self.search_edit.setAccessibleName("Search the Hub")
        self.search_edit.setPlaceholderText("Search the Hub for GGUF models (e.g. qwen, smollm)…")
        self.search_edit.setClearButtonEnabled(True)
        self.sort_combo = QComboBox()
        for key in SORT_KEYS:
            self.sort_combo.addItem(SORT_LABELS[key], key)
        self.results = RecordView(RecordTableModel(REPO_COLUMNS))
        self.results.setAccessibleName("Repositories found")
        self.suggested = self._suggested_tree()
        # Nothing is fetched until asked: the app stays quiet for people working offline.
        self.search_status = MessageLabel(
            "Type to search the Hub, or press Enter for the most downloaded GGUF models — "
            "or start with a suggested pair below."
        )
        self.search_status.setWordWrap(True)
        self.search_status.setTextFormat(Qt.TextFormat.RichText)  # Hub words escaped

        self.repo_label = MessageLabel("Pick a repository to see its files.")
        self.repo_label.setWordWrap(True)
        self.repo_label.setTextFormat(Qt.TextFormat.RichText)  # repository names escaped
        self.repo_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.context_spin = QSpinBox()
        self.context_spin.setAccessibleName("Context to plan for, in tokens")
        self.context_spin.setRange(512, 262_144)
        self.context_spin.setSingleStep(1024)
        self.context_spin.setValue(4096)
        self.context_spin.setSuffix(" tokens")
        self.context_spin.setToolTip("Context length the fit estimate plans for (KV cache)")
        self.files = RecordView(RecordTableModel(FILE_COLUMNS))
        self.files.setAccessibleName("The repository's GGUF models")
        self.download_button = QPushButton("Download")
        self.download_button.setEnabled(False)
        self.files_status = MessageLabel("")
        self.files_status.setWordWrap(True)

        self.listing: RepoListing | None = None
        self.exact_info: ModelInfo | None = None
        self.jobs = Jobs(self)  # kinds: "search", "files", "header"
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._layout()
        self._connect()

    def _layout(self) -> None:
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.sort_combo)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(search_row)
        left_layout.addWidget(self.search_status)
        left_layout.addWidget(self.results, 3)
        left_layout.addWidget(QLabel("<b>Start here</b>: the same model before and after "
                                     "post-training (base / instruct)"))  # fmt: skip
        left_layout.addWidget(self.suggested, 2)
        fit_row = QHBoxLayout()
        fit_row.addWidget(QLabel("Plan for a context of"))
        fit_row.addWidget(self.context_spin)
        fit_row.addStretch(1)
        fit_row.addWidget(self.download_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.repo_label)
        right_layout.addLayout(fit_row)
        right_layout.addWidget(self.files, 1)
        right_layout.addWidget(self.files_status)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([520, 560])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _connect(self) -> None:
        self.search_edit.textChanged.connect(self._on_text_changed)
        self.search_edit.returnPressed.connect(self.search_now)
        self.sort_combo.currentIndexChanged.connect(lambda _i: self.search_now())
        self._timer.timeout.connect(self.search_now)
        self.results.clicked.connect(lambda _index: self._open_current_result())
        self.suggested.itemClicked.connect(self._open_suggested)
        self.files.doubleClicked.connect(lambda _index: self.request_download())
        self.files.selectionModel().currentRowChanged.connect(lambda *_: self._update_button())
        self.download_button.clicked.connect(self.request_download)
        self.context_spin.valueChanged.connect(lambda _v: self._rate())

    def _suggested_tree(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setAccessibleName("Suggested base and instruct pairs")
        tree.setHeaderLabels(["Model", "Why"])
        tree.setRootIsDecorated(True)
        for pair in SUGGESTED:
            family = QTreeWidgetItem([f"{pair.family} {pair.size}", pair.why])
            for kind, repo in (("base", pair.base_repo), ("instruct", pair.instruct_repo)):
                child = QTreeWidgetItem([f"{kind}: {repo}", ""])
                child.setData(0, Qt.ItemDataRole.UserRole, repo)
                family.addChild(child)
            tree.addTopLevelItem(family)
        tree.expandAll()
        tree.resizeColumnToContents(0)
        return tree

    # ---- search -----------------------------------------------------------------

    @Slot(str)
    def _on_text_changed(self, text: str) -> None:
        if text.strip():
            self._timer.start()  # debounced: one search when typing pauses
        else:
            self._timer.stop()

    @Slot()
    def search_now(self) -> None:
        from desktop.core.hub.catalogue import search_models

        self._timer.stop()
        text, sort = self.search_edit.text(), self.sort_combo.currentData()
        self.search_status.setText(
            f"Searching the Hub for “{html_text(text)}”…" if text else "Searching…"
        )
        self.jobs.start(
            "search",
            lambda _c: search_models(text, sort=sort),
            done=self._on_results,
            failed=self._on_search_failed,
        )

    def _on_results(self, found: list[RepoSummary]) -> None:
        self.results.records.set_records(found)
        self.results.fit_columns()
        self.search_status.setText(
            f"{len(found)} GGUF repositories." if found else "No GGUF repositories found."
        )
        self.searched.emit(len(found))

    def _on_search_failed(self, exc: BaseException) -> None:
        self.search_status.setText(warning_html(str(explain(exc))))
        self.searched.emit(-1)

    # ---- a repository's files -----------------------------------------------------

    def _open_current_result(self) -> None:
        record = self.results.current_record()
        if record is not None:
            self.open_repo(record.repo_id)

    @Slot(QTreeWidgetItem, int)
    def _open_suggested(self, item: QTreeWidgetItem, _column: int) -> None:
        repo = item.data(0, Qt.ItemDataRole.UserRole)
        if repo:
            self.open_repo(str(repo))

    def open_repo(self, repo_id: str) -> None:
        from desktop.core.hub.catalogue import list_gguf_models

        self.jobs.cancel("header")
        self.listing, self.exact_info = None, None
        self.files.records.set_records([])
        self.repo_label.setText(f"<b>{html_text(repo_id)}</b> — listing files…")
        self.files_status.setText("")
        self.jobs.start(
            "files",
            lambda _c: list_gguf_models(repo_id),
            done=self._on_listing,
            failed=self._on_listing_failed,
        )
        self._update_button()

    def _on_listing(self, listing: RepoListing) -> None:
        self.listing = listing
        gated = " · gated (needs an access token)" if listing.gated else ""
        self.repo_label.setText(
            f"<b>{html_text(listing.repo_id)}</b> · {len(listing.models)} GGUF models{gated}"
        )
        self._rate()
        self.files.fit_columns()
        if not listing.models:
            self.files_status.setText("This repository has no GGUF files.")
        self._read_exact_shape(listing)
        self.listed.emit(listing.repo_id)

    def _on_listing_failed(self, exc: BaseException) -> None:
        self.repo_label.setText(warning_html(str(explain(exc))))
        self.listed.emit("")

    def _read_exact_shape(self, listing: RepoListing) -> None:
        """Read one file's header over HTTP Range: the KV cache size becomes exact."""
        from desktop.core.hub.remote_header import read_remote_model_info

        candidates = [m for m in listing.models if m.complete and not is_projector(m)]
        if not candidates:
            return
        first = candidates[0].parts[0]

        def work(_control: JobControl) -> ModelInfo:
            return read_remote_model_info(
                listing.repo_id, first.path, first.size, revision=listing.revision
            )

        # on failure the size-based estimate stays
        self.jobs.start("header", work, done=self._on_exact_shape)

    def _on_exact_shape(self, info: ModelInfo) -> None:
        self.exact_info = info
        self._rate()

    def _rate(self) -> None:
        if self.listing is None:
            return
        selected = self.selected_model()
        per_token = self.exact_info.kv_bytes_per_token if self.exact_info else None
        rated = rate_models(
            self.listing.models, self.context_spin.value(), available_memory_bytes(), per_token
        )
        self.files.records.set_records(rated)
        rows = [i for i, (m, _) in enumerate(rated) if m.name == (selected or _recommended(rated))]
        if rows:
            self.files.select_source_row(rows[0])
        self._update_button()

    def selected_model(self) -> str | None:
        record: RatedModel | None = self.files.current_record()
        return record[0].name if record else None

    def _update_button(self) -> None:
        record: RatedModel | None = self.files.current_record()
        self.download_button.setEnabled(record is not None and record[0].complete)
        if record is not None and not record[0].complete:
            self.files_status.setText("Some parts of this split model are missing on the Hub.")

    @Slot()
    def request_download(self) -> None:
        record: RatedModel | None = self.files.current_record()
        if self.listing is not None and record is not None and record[0].complete:
            self.download_requested.emit(self.listing, record[0])

    def select_file(self, name: str) -> bool:
        for row, (model, _) in enumerate(self.files.records.records):
            if model.name == name:
                self.files.select_source_row(row)
                return True
        return False


def _recommended(rated: list[tuple[GGUFModelFile, Any]]) -> str | None:
    return next((m.name for m, _ in rated if m.recommended), None)

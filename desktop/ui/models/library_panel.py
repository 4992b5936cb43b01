"""Library: the GGUF models on this computer, with what their headers say, and the
actions a person needs — chat with one, show it in its folder, import, delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.formatting import format_bytes, format_count
from desktop.core.hub.fit import FitEstimate, local_fit
from desktop.core.models.library import LibraryEntry, delete_entry, import_gguf, scan_library
from desktop.core.models.library_folders import library_folders, set_library_folders
from desktop.core.models.system_memory import available_memory_bytes
from desktop.core.tokens.tokenizer_kinds import tokenizer_kind
from desktop.engine.background import JobControl
from desktop.engine.jobs import Jobs
from desktop.ui.app_settings import AppSettings
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.record_table import Column, RecordTableModel
from desktop.ui.widgets.record_view import RecordView

BROKEN = "#a40000"


LocalFit = tuple[FitEstimate | None, int]  # the estimate, and the context it plans for


def tokenizer_text(entry: LibraryEntry) -> str:
    info = entry.info
    if info is None:
        return ""
    kind = tokenizer_kind(info.tokenizer_model)
    return f"{kind}, {info.vocab_size:,}" if info.vocab_size else kind


def fit_text(fit: LocalFit | None) -> str:
    estimate, context = fit if fit is not None else (None, 0)
    if estimate is None:
        return ""
    return f"{estimate.verdict} ({format_bytes(estimate.needed)} at {context:,} tokens)"


def library_columns(fits: dict[Path, LocalFit]) -> list[Column[LibraryEntry]]:
    """The library's columns; "Fits here" reads `fits`, refreshed with every scan."""
    fits_here: Column[LibraryEntry] = Column(
        "Fits here", lambda e: fit_text(fits.get(e.path)),
        colour=lambda e: FIT_COLOURS.get(fit_text(fits.get(e.path)).split(" (")[0]),
        tooltip=lambda e: FIT_TIP if e.path in fits else "",
    )  # fmt: skip
    return [*LIBRARY_COLUMNS[:-1], fits_here, LIBRARY_COLUMNS[-1]]  # the file stays last


FIT_COLOURS = {"fits": "#2E7D32", "tight": "#B26A00", "won't fit": "#C62828"}
FIT_TIP = ("Weights + KV cache for the context the Chat tab loads it with (its Context "
           "size setting, at most the trained context), against the memory free now")  # fmt: skip
LIBRARY_COLUMNS: list[Column[LibraryEntry]] = [
    Column("Model", lambda e: e.name, colour=lambda e: None if e.info else BROKEN,
           tooltip=lambda e: str(e.path)),
    Column("Architecture", lambda e: e.info.architecture or "?" if e.info else "broken",
           colour=lambda e: None if e.info else BROKEN),
    Column("Parameters", lambda e: format_count(e.info.parameter_count) if e.info else "",
           sort_key=lambda e: e.info.parameter_count if e.info else 0, align_right=True,
           tooltip=lambda e: f"{e.info.parameter_count:,}" if e.info else ""),
    Column("Quant", lambda e: e.info.quantization if e.info else ""),
    Column("Context", lambda e: f"{e.info.context_length:,}" if e.info and
           e.info.context_length else "", sort_key=lambda e: e.info.context_length or 0
           if e.info else 0, align_right=True),
    Column("Chat template", lambda e: ("yes" if e.info.has_chat_template else "no (base)")
           if e.info else ""),
    Column("Tokenizer", tokenizer_text),
    Column("Size", lambda e: format_bytes(e.size), sort_key=lambda e: e.size, align_right=True),
    Column("File / problem", lambda e: e.relative if e.info else f"{e.relative}: {e.error}",
           colour=lambda e: None if e.info else BROKEN,
           tooltip=lambda e: e.error or ""),
]  # fmt: skip


class LibraryPanel(QWidget):
    chat_requested = Signal(str)  # path of the model file
    changed = Signal()

    def __init__(self, in_use: Callable[[Path], bool] = lambda _path: False) -> None:
        super().__init__()
        self.fits: dict[Path, LocalFit] = {}
        self.table = RecordView(RecordTableModel(library_columns(self.fits)))
        self.table.setAccessibleName("Models in the library")
        self.chat_button = QPushButton("Chat with this model")
        self.reveal_button = QPushButton("Show in folder")
        self.delete_button = QPushButton("Delete…")
        self.import_button = QPushButton("Import GGUF…")
        self.refresh_button = QPushButton("Refresh")
        self.folders = QListWidget()
        self.folders.setAccessibleName("Models folders")
        self.folders.setMaximumHeight(70)
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_folder_button = QPushButton("Remove folder")
        self.status = MessageLabel("", plain=True)  # file names: text, never HTML
        actions = QHBoxLayout()
        for button in (self.chat_button, self.reveal_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.import_button)
        actions.addWidget(self.refresh_button)
        folder_buttons = QVBoxLayout()
        folder_buttons.addWidget(self.add_folder_button)
        folder_buttons.addWidget(self.remove_folder_button)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Folders\n(downloads go\nto the first)"))
        folder_row.addWidget(self.folders, 1)
        folder_row.addLayout(folder_buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(actions)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(folder_row)
        self.chat_button.clicked.connect(self._chat)
        self.table.doubleClicked.connect(lambda _i: self._chat())
        self.reveal_button.clicked.connect(self._reveal)
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.import_button.clicked.connect(lambda: self.import_file())
        self.refresh_button.clicked.connect(lambda: self.refresh())
        self.add_folder_button.clicked.connect(lambda: self.add_folder())
        self.remove_folder_button.clicked.connect(self._remove_folder)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self.jobs = Jobs(self)  # kinds: "scan", "import"
        self._select_after: Path | None = None
        self.in_use = in_use  # is this file the loaded model? (not deleted then)
        self.refresh()

    @property
    def entries(self) -> list[LibraryEntry]:
        return self.table.records.records

    # ---- scanning ---------------------------------------------------------------

    @Slot()
    def refresh(self, select: Path | None = None) -> None:
        """Re-read the folders off the GUI thread (headers of big files take a moment)."""
        self._select_after = select
        folders = library_folders()
        self.folders.clear()
        for folder in folders:
            item = QListWidgetItem(str(folder) if folder.is_dir() else f"{folder}  (missing)")
            item.setData(Qt.ItemDataRole.UserRole, str(folder))
            if not folder.is_dir():
                item.setForeground(QColor(BROKEN))
            self.folders.addItem(item)
        self.status.setText("Reading the library…")
        context = AppSettings().get("chat/context_size")

        def scan(_control: object) -> tuple[list[LibraryEntry], dict[Path, LocalFit]]:
            entries = scan_library(folders)
            available = available_memory_bytes()
            fits = {e.path: local_fit(e.size, e.info.quantization, e.info.context_length, context,
                                      available, e.info.kv_bytes_per_token)
                    for e in entries if e.info}  # fmt: skip
            return entries, fits

        self.jobs.start(
            "scan", scan,
            done=self._on_scanned,
            failed=lambda exc: self.status.setText(f"⚠ {exc}"),
        )  # fmt: skip

    def _on_scanned(self, scanned: tuple[list[LibraryEntry], dict[Path, LocalFit]]) -> None:
        entries, fits = scanned
        self.fits.clear()
        self.fits.update(fits)
        selected = self.selected()
        self.table.records.set_records(entries)
        self.table.fit_columns()
        broken = sum(1 for e in entries if e.info is None)
        total = format_bytes(sum(e.size for e in entries))
        self.status.setText(
            f"{len(entries)} models, {total}" + (f" · {broken} broken" if broken else "")
            if entries else "No models yet: train your own in the Train tab (no network needed), "
            "import a GGUF file, or download one in Discover."
        )  # fmt: skip
        wanted = self._select_after or (selected.path if selected else None)
        if wanted is not None:
            self.select_path(wanted)
        self._update_buttons()
        self.changed.emit()

    def select_path(self, path: Path) -> bool:
        for row, entry in enumerate(self.entries):
            if entry.path == path:
                self.table.select_source_row(row)
                return True
        return False

    def selected(self) -> LibraryEntry | None:
        entry: LibraryEntry | None = self.table.current_record()
        return entry

    def _update_buttons(self) -> None:
        entry = self.selected()
        self.chat_button.setEnabled(entry is not None and entry.info is not None)
        self.reveal_button.setEnabled(entry is not None)
        self.delete_button.setEnabled(entry is not None)
        self.remove_folder_button.setEnabled(self.folders.count() > 1)

    # ---- actions ------------------------------------------------------------------

    def _chat(self) -> None:
        entry = self.selected()
        if entry is not None and entry.info is not None:
            self.chat_requested.emit(str(entry.path))

    def _reveal(self) -> None:
        entry = self.selected()
        if entry is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(entry.path.parent)))

    def delete_selected(self, confirm: bool = True) -> bool:
        entry = self.selected()
        if entry is None:
            return False
        if self.in_use(entry.path):
            self.status.setText("⚠ This model is loaded in the Chat tab: load another first.")
            return False
        if confirm:
            parts = f" and its {len(entry.parts) - 1} other parts" if len(entry.parts) > 1 else ""
            answer = QMessageBox.question(
                self, "Delete model",
                f"Delete {entry.path.name}{parts} ({format_bytes(entry.size)}) from disk?",
            )  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            delete_entry(entry)
        except OSError as exc:  # Windows refuses to delete a file another program holds
            self.status.setText(f"⚠ Could not delete {entry.path.name}: {exc.strerror or exc}")
            return False
        self.refresh()
        return True

    def import_file(self, source: str | None = None) -> None:
        if source is None:
            source, _ = QFileDialog.getOpenFileName(
                self, "Import a GGUF model", "", "GGUF models (*.gguf)"
            )
            if not source:
                return
        folder = library_folders()[0]
        path = Path(source)

        def work(control: JobControl) -> Path:
            return import_gguf(path, folder, control.progress, control.cancelled)

        self.status.setText(f"Importing {path.name}…")
        self.jobs.start(
            "import", work,
            progress=lambda done, total: self.status.setText(
                f"Importing {path.name}… {done / max(total, 1) * 100:.0f}%"
            ),
            done=lambda imported: self.refresh(select=imported),
            failed=lambda exc: self.status.setText(f"⚠ Not imported: {exc}"),
        )  # fmt: skip

    def add_folder(self, folder: str | None = None) -> None:
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Add a models folder")
            if not folder:
                return
        set_library_folders([*library_folders(), Path(folder)])
        self.refresh()

    def _remove_folder(self) -> None:
        item = self.folders.currentItem()
        folders = library_folders()
        if item is not None and len(folders) > 1:
            chosen = item.data(Qt.ItemDataRole.UserRole)
            set_library_folders([f for f in folders if str(f) != chosen])
            self.refresh()

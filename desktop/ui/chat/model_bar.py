"""Pick a GGUF model (from the models folder, recent files, or "Open GGUF…") and load it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.formatting import format_bytes, format_count
from desktop.core.models.library_folders import library_folders
from desktop.core.models.model_info import ModelInfo
from desktop.core.remote.endpoint import RemoteModel, is_remote, parse_remote, what_is_sent
from desktop.core.resources import bundled_for_chat, bundled_models
from desktop.ui.widgets.compact import compact
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.plain_text import html_text, warning_html


def local_models(library: list[Path], extra: list[str]) -> list[Path]:
    """Usable models of the library (scanned off the GUI thread by the Models tab), then
    recently opened ones still on disk, then the built-in ones (the assistant first: what
    a first chat should talk to, and what "Try the built-in model" loads)."""
    found = list(library)
    for item in extra:
        path = Path(item)
        if path not in found and path.is_file():
            found.append(path)
    return found + [path for path in bundled_for_chat() if path not in found]


def describe(info: ModelInfo) -> str:
    template = "chat template" if info.has_chat_template else "no chat template (base model)"
    # The name, architecture and quantization come from the file's header: any text at all
    # (a GGUF named "<h1 style=...>SECURITY ALERT</h1>" once filled the bar), so escaped.
    # A header may lack the architecture or the context length: "?", not "None" or a crash.
    context = f"{info.context_length:,}" if info.context_length else "?"
    return (
        f"<b>{html_text(info.name)}</b> · {html_text(info.architecture or '?')} · "
        f"{format_count(info.parameter_count)} parameters · {html_text(info.quantization)} · "
        f"trained context {context} · {template} · {format_bytes(info.file_size)}"
    )


class ModelBar(QWidget):
    load_requested = Signal(str)
    stop_load_requested = Signal()
    compare_requested = Signal()  # "Compare…": two models side by side (desktop/ui/compare)

    def __init__(self, recent: list[str]) -> None:
        super().__init__()
        self.recent = list(recent)
        self.library: list[tuple[Path, int]] = []
        self.remote: list[RemoteModel] = []  # picked in the Models tab's Servers page
        self.combo = compact(QComboBox(), 16)
        self.combo.setPlaceholderText("No models yet: open a GGUF file")
        self.open_button = QPushButton("Open GGUF…")
        self.load_button = QPushButton("Load")
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip("Two models side by side on the same message; vote")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.info = MessageLabel("No model loaded: pick one and press Load, or open a GGUF file.")
        self.info.setTextFormat(Qt.TextFormat.RichText)  # our markup; header text escaped
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #444;")
        row = QHBoxLayout()
        row.addWidget(QLabel("Model:"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.load_button)
        # under the buttons: loading does not widen the window; Compare sits there too
        status = QHBoxLayout()
        status.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignTop)
        status.addWidget(self.info, 1)
        status.addWidget(self.compare_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(status)
        self.open_button.clicked.connect(self.open_file)
        self.load_button.clicked.connect(self._load_clicked)
        self.compare_button.clicked.connect(self.compare_requested)
        self._loading = False
        self.refresh()

    def set_library(self, models: list[tuple[Path, int]]) -> None:
        """The library's usable models as (path, size), from its latest scan."""
        self.library = models
        self.refresh()

    def set_remote(self, models: list[RemoteModel]) -> None:
        """The remote models to offer, after the local ones."""
        self.remote = list(models)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        current = select or self.current_path()
        sizes = dict(self.library)
        self.combo.blockSignals(True)
        self.combo.clear()
        for path in local_models(list(sizes), self.recent):
            size = sizes.get(path)
            label = f"{path.name}  ({format_bytes(size)})" if size is not None else path.name
            if path in bundled_models():
                label = f"{path.name}  (built in)"
            self.combo.addItem(label, str(path))
        for remote in self.remote:
            self.combo.addItem(f"{remote.label}  (remote)", remote.path)
        self.combo.blockSignals(False)
        index = self.combo.findData(current) if current else -1
        self.combo.setCurrentIndex(index if index >= 0 else min(0, self.combo.count() - 1))

    def current_path(self) -> str:
        data = self.combo.currentData()
        return str(data) if data else ""

    def select_loaded(self, path: str) -> None:
        """The model the engine is loading, whoever asked for it (Compare loads models too)."""
        index = self.combo.findData(path)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            self.add_and_select(path)

    def add_and_select(self, path: str) -> None:
        if path not in self.recent:
            self.recent.insert(0, path)
            del self.recent[10:]
        self.refresh(select=path)

    def open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a GGUF model",
            str(library_folders()[0]),
            "GGUF models (*.gguf);;All files (*)",
        )
        if path:
            self.add_and_select(path)
            self.load_requested.emit(path)

    def _load_clicked(self) -> None:
        if self._loading:
            self.stop_load_requested.emit()
        elif self.current_path():
            self.load_requested.emit(self.current_path())

    # ---- engine feedback -----------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._loading

    def set_loading(self, loading: bool) -> None:
        self._loading = loading
        self.load_button.setText("Cancel" if loading else "Load")
        self.progress.setVisible(loading)
        if loading:
            self.progress.setValue(0)
            self.info.setText("Loading…")

    @Slot(float)
    def set_progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 100))

    def show_model(self, info: ModelInfo | None, context_size: int) -> None:
        if info is None and is_remote(self.current_path()):  # where the messages go, kept in view
            remote = parse_remote(self.current_path())
            sent = html_text(what_is_sent(remote.base_url))
            self.info.setText(
                f"<b>{html_text(remote.label)}</b> · remote · context {context_size:,} · {sent}"
            )
        elif info is None:
            self.info.setText(f"Loaded · context {context_size:,} tokens")
        else:
            self.info.setText(f"{describe(info)} · using context {context_size:,}")

    def show_error(self, message: str) -> None:
        self.info.setText(warning_html(message))

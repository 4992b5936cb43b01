"""What to fine-tune and on what: a GGUF model from the library (or any file), and the
conversations — the identity set, a JSONL file, the Quiz tab's refusal set, conversations
from the Chat tab."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QWidget,
)

from desktop.core.posttrain.chat_data import BadLine, Conversation
from desktop.core.resources import bundled_models

IDENTITY = "identity"
FILE = "file"


@dataclass(frozen=True)
class DataSource:
    key: str  # IDENTITY, FILE, "quiz", "chat"
    label: str
    conversations: tuple[Conversation, ...] = ()
    bad_lines: tuple[BadLine, ...] = ()
    quiz_run_id: int | None = None
    quiz_model: str = ""  # the model the quiz asked (for "Quiz again" and the default model)


class SourcePanel(QWidget):
    model_changed = Signal(object)  # Path or None
    data_changed = Signal()
    problem = Signal(str)  # a file that could not be read

    def __init__(self) -> None:
        super().__init__()
        self.model = QComboBox()
        self.model.setAccessibleName("Model to fine-tune")
        self.model.setPlaceholderText("No model yet")
        self.model.setToolTip(
            "A GGUF model from the library: train one in the Train tab, or "
            "download one in the Models tab"
        )
        for combo in (self.model,):
            combo.setMinimumContentsLength(10)  # long file names do not widen the panel
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Any llama-architecture GGUF file")
        self.data = QComboBox()
        self.data.setAccessibleName("Conversations to learn from")
        self.data.addItem("Identity set (the Identity page)", IDENTITY)
        self.data.addItem("JSONL file…", FILE)
        self.data.setMinimumContentsLength(10)
        self.data.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.sources: dict[str, DataSource] = {IDENTITY: DataSource(IDENTITY, "identity set")}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.open_button)
        form.addRow("Model:", row)
        form.addRow("Data:", self.data)
        self.model.currentIndexChanged.connect(
            lambda _i: self.model_changed.emit(self.model_path())
        )
        self.open_button.clicked.connect(self._open_model)
        self.data.activated.connect(self._on_data)

    # ---- the model ---------------------------------------------------------------

    def set_library(self, paths: list[Path]) -> None:
        """The library's GGUF models, then the built-in starter models, the base one first
        (a first run has no other: it is the one to give a name to); the one chosen stays
        chosen."""
        current = self.model_path()
        built_in = [path for path in bundled_models() if path not in paths]
        self.model.blockSignals(True)
        self.model.clear()
        for path in [*paths, *built_in]:
            label = f"{path.name}  (built in)" if path in built_in else path.name
            self.model.addItem(label, str(path))
            self.model.setItemData(self.model.count() - 1, str(path), 3)  # tooltip role
        self.model.blockSignals(False)
        if current is not None:
            self.choose_model(current)
        elif self.model.count():
            self.model.setCurrentIndex(0)
            self.model_changed.emit(self.model_path())

    def choose_model(self, path: Path) -> None:
        index = self.model.findData(str(path))
        if index < 0:
            self.model.addItem(path.name, str(path))
            index = self.model.count() - 1
        if index != self.model.currentIndex():
            self.model.setCurrentIndex(index)
        else:
            self.model_changed.emit(path)

    def model_path(self) -> Path | None:
        data = self.model.currentData()
        return Path(data) if data else None

    @Slot()
    def _open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A GGUF model", "", "GGUF (*.gguf)")
        if path:
            self.choose_model(Path(path))

    # ---- the data ----------------------------------------------------------------

    def add_source(self, source: DataSource) -> None:
        """A data set offered by another tab (or a file read), chosen at once."""
        self.sources[source.key] = source
        index = self.data.findData(source.key)
        if index < 0:
            self.data.addItem(source.label, source.key)
            index = self.data.count() - 1
        else:
            self.data.setItemText(index, source.label)
        self.data.setCurrentIndex(index)
        self.data_changed.emit()

    def source(self) -> DataSource:
        return self.sources.get(str(self.data.currentData()), self.sources[IDENTITY])

    def read_file(self, path: Path) -> str | None:
        """Read a JSONL file as the data; returns why not, if it cannot be read."""
        from desktop.core.posttrain.chat_data import read_chat_jsonl

        try:
            data = read_chat_jsonl(path)
        except OSError as exc:
            return f"Cannot read {path.name}: {exc.strerror or exc}"
        self.add_source(DataSource(f"file:{path}", path.name, data.conversations, data.bad_lines))
        return None

    @Slot(int)
    def _on_data(self, index: int) -> None:
        if self.data.itemData(index) == FILE:
            path, _ = QFileDialog.getOpenFileName(self, "Conversations (OpenAI messages JSONL)",
                                                  "", "JSON lines (*.jsonl);;All (*)")  # fmt: skip
            why = self.read_file(Path(path)) if path else ""
            if why is not None:
                self.data.setCurrentIndex(0)
                if why:
                    self.problem.emit(why)
        self.data_changed.emit()

    def set_editable(self, editable: bool) -> None:
        for widget in (self.model, self.open_button, self.data):
            widget.setEnabled(editable)

"""The downloads panel: each queued download with a progress bar, speed, ETA and its
state, and Pause / Resume / Cancel for the selected one."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.formatting import format_bytes, format_duration
from desktop.engine.download_queue import DownloadItem, DownloadQueue
from desktop.ui.widgets.message_label import MessageLabel
from desktop.ui.widgets.record_table import Column, RecordTableModel
from desktop.ui.widgets.record_view import RecordView

STATE_COLOURS = {"failed": "#a40000", "done": "#2e7d32", "paused": "#b26a00"}
PROGRESS_COLUMN = 1


def _eta(item: DownloadItem) -> str:
    eta = item.eta_seconds
    return format_duration(eta) if eta is not None else ""


DOWNLOAD_COLUMNS: list[Column[DownloadItem]] = [
    Column("Model", lambda i: f"{i.repo_id} / {i.name}"),
    Column("Progress", lambda i: f"{i.fraction * 100:.0f}%", sort_key=lambda i: i.fraction),
    Column("Size", lambda i: f"{format_bytes(i.done)} / {format_bytes(i.total)}",
           sort_key=lambda i: i.total, align_right=True),
    Column("Speed", lambda i: f"{format_bytes(int(i.speed))}/s" if i.speed else "",
           sort_key=lambda i: i.speed, align_right=True),
    Column("ETA", _eta, align_right=True),
    Column("State", lambda i: f"{i.state}: {i.message}" if i.message else i.state,
           tooltip=lambda i: i.message, colour=lambda i: STATE_COLOURS.get(i.state)),
]  # fmt: skip


class ProgressDelegate(QStyledItemDelegate):
    """Paints the progress column as a progress bar."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 1000
        text = str(index.data())
        bar.progress = int(float(text.rstrip("%") or 0) * 10)
        bar.text, bar.textVisible = text, True
        style = QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class DownloadList(QWidget):
    token_requested = Signal()

    def __init__(self, queue: DownloadQueue) -> None:
        super().__init__()
        self.queue = queue
        self.table = RecordView(RecordTableModel(DOWNLOAD_COLUMNS), sortable=False)
        self.table.setAccessibleName("Downloads")
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setColumnWidth(0, 360)
        self.table.setColumnWidth(PROGRESS_COLUMN, 140)
        self.table.setColumnWidth(2, 160)
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel")
        self.clear_button = QPushButton("Clear finished")
        self.token_button = QPushButton("Hub token…")
        self.token_button.setToolTip("An access token for gated models (stored by huggingface_hub)")
        self.note = MessageLabel("")  # the latest outcome worth telling: done, gated, no disk…
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)  # warnings in red; their words escaped
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<b>Downloads</b>"))
        buttons.addWidget(self.note, 1)
        for button in (self.pause_button, self.resume_button, self.cancel_button,
                       self.clear_button, self.token_button):  # fmt: skip
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        queue.item_added.connect(self._reload)
        queue.item_changed.connect(self._on_changed)
        self.pause_button.clicked.connect(lambda: self._act(queue.pause))
        self.resume_button.clicked.connect(lambda: self._act(queue.resume))
        self.cancel_button.clicked.connect(lambda: self._act(queue.cancel))
        self.clear_button.clicked.connect(self._clear)
        self.token_button.clicked.connect(self.token_requested.emit)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def _act(self, action: object) -> None:
        item: DownloadItem | None = self.table.current_record()
        if item is not None:
            action(item.id)  # type: ignore[operator]

    @Slot(int)
    def _reload(self, item_id: int) -> None:
        self.table.records.set_records(self.queue.items)
        rows = [r for r, i in enumerate(self.queue.items) if i.id == item_id]
        if rows:
            self.table.select_source_row(rows[0])
        self._update_buttons()

    @Slot(int)
    def _on_changed(self, item_id: int) -> None:
        for row, item in enumerate(self.table.records.records):
            if item.id == item_id:
                self.table.records.refresh_row(row)
        self._update_buttons()

    def _clear(self) -> None:
        self.queue.clear_finished()
        self.table.records.set_records(self.queue.items)
        self._update_buttons()

    def _update_buttons(self) -> None:
        item: DownloadItem | None = self.table.current_record()
        state = item.state if item else None
        self.pause_button.setEnabled(state in ("queued", "downloading"))
        self.resume_button.setEnabled(state in ("paused", "failed"))
        self.cancel_button.setEnabled(state in ("queued", "downloading", "paused", "failed"))
        self.clear_button.setEnabled(
            any(i.state in ("done", "cancelled") for i in self.queue.items)
        )

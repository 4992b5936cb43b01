"""The sidebar of saved conversations: New chat, open, rename, delete (asks), export."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.storage.conversation_records import Conversation
from desktop.core.storage.conversations import ConversationStore
from desktop.ui.widgets.file_places import suggested
from desktop.ui.widgets.plain_text import plain_tooltip

AnyIndex = QModelIndex | QPersistentModelIndex


class ConversationListModel(QAbstractListModel):
    """Conversations, newest activity first. GUI thread only."""

    IdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, store: ConversationStore) -> None:
        super().__init__()
        self._store = store
        self._items: list[Conversation] = []
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._items = self._store.list_conversations()
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(f"{item.title}\n{item.model_path or 'no model yet'}")
        if role == self.IdRole:
            return item.id
        return None

    def row_of(self, conversation_id: int) -> int:
        return next((i for i, c in enumerate(self._items) if c.id == conversation_id), -1)


class ConversationSidebar(QWidget):
    new_requested = Signal()
    selected = Signal(int)
    deleted = Signal(int)
    train_requested = Signal(int)  # "Train on this conversation" (the Post-train tab)

    def __init__(self, store: ConversationStore) -> None:
        super().__init__()
        self._store = store
        self.locked_id: int | None = None  # the conversation a reply is streaming into
        self.model = ConversationListModel(store)
        self.view = QListView()
        self.view.setAccessibleName("Conversations")
        self.view.setModel(self.model)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setUniformItemSizes(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.clicked.connect(lambda index: self.selected.emit(index.data(self.model.IdRole)))
        self.new_button = QPushButton("+ New chat")
        self.export_all_button = QPushButton("Export all…")
        self.export_all_button.setToolTip("Save every conversation as OpenAI-format JSONL")
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.export_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.view)
        self.new_button.clicked.connect(self.new_requested.emit)
        self.export_all_button.clicked.connect(self._export_all)

    def reload(self, current: int | None = None) -> None:
        self.model.reload()
        if current is not None:
            row = self.model.row_of(current)
            if row >= 0:
                self.view.setCurrentIndex(self.model.index(row))

    def _menu(self, pos: Any) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        conversation_id = int(index.data(self.model.IdRole))
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.rename(conversation_id))
        menu.addAction("Export as JSONL…", lambda: self.export([conversation_id]))
        menu.addAction("Train on this conversation",
                       lambda: self.train_requested.emit(conversation_id))  # fmt: skip
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.delete(conversation_id))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def rename(self, conversation_id: int, title: str | None = None) -> None:
        if title is None:
            current = self._store.get_conversation(conversation_id).title
            title, ok = QInputDialog.getText(self, "Rename conversation", "Title:", text=current)
            if not ok:
                return
        if title.strip():
            self._store.rename(conversation_id, title.strip())
            self.reload(conversation_id)

    def delete(self, conversation_id: int, confirm: bool = True) -> bool:
        if conversation_id == self.locked_id:
            if confirm:
                QMessageBox.information(
                    self, "Delete conversation", "Stop the reply before deleting this chat."
                )
            return False
        if confirm:
            title = self._store.get_conversation(conversation_id).title
            answer = QMessageBox.question(
                self,
                "Delete conversation",
                f"Delete “{title}” and all its messages? This cannot be undone.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self._store.delete_conversation(conversation_id)
        self.reload()
        self.deleted.emit(conversation_id)
        return True

    def export(self, conversation_ids: list[int], path: str | None = None) -> int:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Export conversations",
                suggested("conversations.jsonl"),
                "JSON Lines (*.jsonl)",
            )
            if not path:
                return 0
        return self._store.export_jsonl(conversation_ids, path)

    def _export_all(self) -> None:
        self.export([c.id for c in self._store.list_conversations()])

"""The documents attached to each conversation, in the app's database (the
`conversation_documents` table, migration 5): added whole or not at all, removed with the
conversation. Used through `ConversationStore.documents`, on the GUI thread."""

from __future__ import annotations

import sqlite3
import time
from typing import cast

from desktop.core.documents.document import MAX_DOCUMENTS, Document, DocumentError


class DocumentStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, conversation_id: int, document: Document) -> Document:
        count = self._conn.execute(
            "SELECT COUNT(*) FROM conversation_documents WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()[0]
        if count >= MAX_DOCUMENTS:
            raise DocumentError(f"A conversation holds at most {MAX_DOCUMENTS} documents; "
                                "remove one first.")  # fmt: skip
        cur = self._conn.execute(
            "INSERT INTO conversation_documents (conversation_id, name, title, text, source,"
            " added_at) VALUES (?, ?, ?, ?, ?, ?)",
            (conversation_id, document.name, document.title, document.text, document.source,
             time.time()),
        )  # fmt: skip
        return Document(document.name, document.title, document.text, document.source,
                        cast(int, cur.lastrowid))  # fmt: skip

    def list(self, conversation_id: int) -> list[Document]:
        rows = self._conn.execute(
            "SELECT id, name, title, text, source FROM conversation_documents"
            " WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [Document(r["name"], r["title"], r["text"], r["source"], r["id"]) for r in rows]

    def remove(self, document_id: int) -> None:
        self._conn.execute("DELETE FROM conversation_documents WHERE id = ?", (document_id,))

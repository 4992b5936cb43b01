"""Clicking a link in a reply: a web address opens in the browser after the person has seen
all of it and said yes; anything else opens nothing (see core/chat/reply_links.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QCursor, QDesktopServices
from PySide6.QtWidgets import QMessageBox, QToolTip, QWidget

from desktop.core.chat.reply_links import INERT_LINK, openable_address


def shown_address(url: QUrl) -> str:
    """The address exactly as it will be opened: percent-encoded, the host in punycode, so
    look-alike letters cannot pass for another site."""
    return bytes(url.toEncoded().data()).decode("ascii")


def confirm_opening(parent: QWidget, address: str) -> bool:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Open a link from the reply?")
    box.setTextFormat(Qt.TextFormat.PlainText)  # the address is the model's text
    box.setText(f"The model's reply links to this address:\n\n{address}\n\n"
                "Open it in your web browser?")  # fmt: skip
    box.setStandardButtons(QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Open


def open_reply_link(parent: QWidget, url: QUrl) -> bool:
    """Open `url` if it is a web address and the person agrees; True if it was opened."""
    address = openable_address(shown_address(url)) if url.isValid() else None
    if address is None:
        QToolTip.showText(QCursor.pos(), INERT_LINK, parent)
        return False
    if not confirm_opening(parent, address):
        return False
    return QDesktopServices.openUrl(QUrl.fromEncoded(address.encode("ascii")))

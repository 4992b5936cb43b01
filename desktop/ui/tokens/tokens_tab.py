"""The Tokens tab: see text the way a model sees it — with tiktoken's encodings and the
exact tokenizer of any local GGUF model — compare tokenizers, and see what a chat
really becomes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.resources import bundled_models
from desktop.core.storage.paths import data_dir
from desktop.core.tokens.examples import EXAMPLES
from desktop.core.tokens.tiktoken_source import NeedsDownload
from desktop.engine.jobs import Jobs
from desktop.engine.tokenizer_pool import TokenizerPool
from desktop.ui.tokens.chat_page import ChatPage
from desktop.ui.tokens.compare_page import ComparePage
from desktop.ui.tokens.lookup_page import LookupPage
from desktop.ui.tokens.text_page import TextPage
from desktop.ui.tokens.tokenize_runner import EMPTY, Shown, TokenizeRunner, failure_text
from desktop.ui.tokens.tokenizer_picker import TokenizerPicker
from desktop.ui.widgets.message_label import MessageLabel

FIRST_EXAMPLE = next(iter(EXAMPLES))


class TokensTab(QWidget):
    def __init__(self, pool: TokenizerPool | None = None) -> None:
        super().__init__()
        self.pool = pool or TokenizerPool()
        self.picker = TokenizerPicker(self.pool)
        self.whitespace = QCheckBox("Show whitespace")
        self.whitespace.setToolTip("· space   → tab   ↵ newline")
        self.special = QCheckBox("Parse special tokens")
        self.special.setToolTip("Text like <|endoftext|> becomes the control token itself")
        self.examples = QComboBox()
        self.examples.addItem("Examples…")
        self.examples.addItems(list(EXAMPLES))
        self.banner = MessageLabel("")
        self.banner.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.hide()
        self.text_page = TextPage()
        self.compare_page = ComparePage(self.pool)
        self.chat_page = ChatPage(self.pool)
        self.lookup_page = LookupPage(self.pool)
        self.pages = QTabWidget()
        self.pages.addTab(self.text_page, "Text")
        self.pages.addTab(self.compare_page, "Compare")
        self.pages.addTab(self.chat_page, "Chat format")
        self.pages.addTab(self.lookup_page, "Look up")
        self.runner = TokenizeRunner(self.pool)
        self.jobs = Jobs(self)  # kind: "download"
        self._layout()
        self.set_gguf_models([])  # the built-in models, before the library is read
        self._connect()
        self.text_page.editor.setPlainText(EXAMPLES[FIRST_EXAMPLE])
        self._checked = False

    def _layout(self) -> None:
        row = QHBoxLayout()
        row.addWidget(QLabel("Tokenizer:"))
        row.addWidget(self.picker)
        row.addWidget(self.whitespace)
        row.addWidget(self.special)
        row.addStretch(1)
        row.addWidget(self.examples)
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.download_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(banner_row)
        layout.addWidget(self.pages, 1)

    def _connect(self) -> None:
        self.picker.picked.connect(self._on_tokenizer)
        self.text_page.text_changed.connect(self.retokenize)
        self.whitespace.toggled.connect(self._on_whitespace)
        self.special.toggled.connect(lambda _on: self.retokenize(immediately=True))
        self.examples.activated.connect(self._on_example)
        self.download_button.clicked.connect(self.download)
        self.runner.finished.connect(self._show)
        self.runner.failed.connect(self._failed)
        self.pages.currentChanged.connect(lambda _i: self._sync_pages())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # tokenizers trained in the Train tab since the last look (a glob: cheap)
        self.picker.set_trained(sorted((data_dir() / "runs").glob("*/tokenizer.json")))
        if not self._checked:  # which encodings are downloaded: asked once, off-thread
            self._checked = True
            self.picker.check_availability()
        self.retokenize(immediately=True)

    # ---- tokenizing -----------------------------------------------------------------

    @property
    def key(self) -> str:
        return self.picker.key()

    @Slot()
    def retokenize(self, immediately: bool = False) -> None:
        if not self.isVisible():
            return  # a hidden tab does no work (and loads no tokenizer): shown, it catches up
        self.runner.request(self.key, self.text_page.text(),
                            parse_special=self.special.isChecked(),
                            show_whitespace=self.whitespace.isChecked(),
                            immediately=immediately)  # fmt: skip
        if self.pages.currentWidget() is self.compare_page:
            self.compare_page.set_text(
                self.text_page.text(), self.whitespace.isChecked(), self.special.isChecked()
            )

    @Slot(bool)
    def _on_whitespace(self, on: bool) -> None:
        self.runner.redisplay(on)
        if self.pages.currentWidget() is self.compare_page:
            self.compare_page.set_text(self.text_page.text(), on, self.special.isChecked())

    @Slot(object)
    def _show(self, shown: Shown) -> None:
        try:
            self.banner.setText(self.pool.describe(self.key))
        except Exception:  # the tokenizer went away meanwhile: nothing to describe
            self.banner.setText("")
        self.download_button.hide()
        self.text_page.show_tokens(shown.tokenized, shown.display)
        if self.pages.currentWidget() is self.lookup_page:
            self.lookup_page.set_tokenizer(self.key)

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self.banner.setText(
            f'<span style="color:#a40000">⚠ {failure_text(exc, self.picker.label())}</span>'
        )
        self.download_button.setVisible(isinstance(exc, NeedsDownload))
        self.text_page.show_tokens(EMPTY, EMPTY.display())  # no stale tokens of another
        self.runner.last = None

    @Slot(str)
    def _on_tokenizer(self, _key: str) -> None:
        self.text_page.forget_hover()
        self.retokenize(immediately=True)
        self._sync_pages()

    def _sync_pages(self) -> None:
        page = self.pages.currentWidget()
        if page is self.chat_page:
            self.chat_page.set_tokenizer(self.key)
        elif page is self.compare_page:
            self.compare_page.set_text(
                self.text_page.text(), self.whitespace.isChecked(), self.special.isChecked()
            )
        elif page is self.lookup_page:
            self.lookup_page.set_tokenizer(self.key)

    @Slot(int)
    def _on_example(self, index: int) -> None:
        if index > 0:
            self.text_page.editor.setPlainText(EXAMPLES[self.examples.itemText(index)])
            self.examples.setCurrentIndex(0)

    def download(self) -> None:
        """Fetch the selected encoding's file (the one time the network is used)."""
        pool, key = self.pool, self.key
        self.banner.setText(f"Downloading {self.picker.label()}…")
        self.download_button.setEnabled(False)
        self.jobs.start(
            "download",
            lambda _c: pool.get(key, allow_download=True),
            done=lambda _t: self._downloaded(key),
            failed=self._download_failed,
        )

    def _download_failed(self, exc: BaseException) -> None:
        from desktop.core.tokens.tiktoken_source import download_failure

        self.download_button.setEnabled(True)
        self.banner.setText(f"⚠ {download_failure(self.picker.label(), exc)}")

    def _downloaded(self, key: str) -> None:
        self.download_button.setEnabled(True)
        self.picker.mark_available(key)
        self.retokenize(immediately=True)

    def set_gguf_models(self, paths: list[Path]) -> None:
        """The library's models, then the built-in ones (a first run has only those)."""
        paths = [*paths, *(p for p in bundled_models() if p not in paths)]
        self.picker.set_gguf_models(paths)
        self.compare_page.set_gguf_models(paths)

    def shutdown(self) -> None:
        self.jobs.cancel()
        for runner_owner in (self, self.chat_page, self.lookup_page):
            runner_owner.runner.shutdown()
        self.compare_page.shutdown()
        self.pool.close()

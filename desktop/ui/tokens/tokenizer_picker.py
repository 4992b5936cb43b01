"""Pick a tokenizer: every tiktoken encoding (those not downloaded yet say so) and every
GGUF model of the library, plus "Open GGUF…" for any other file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QFileDialog

from desktop.core.tokens.tiktoken_source import KNOWN_ENCODINGS, Unavailable, why_unavailable
from desktop.engine.jobs import Jobs
from desktop.engine.tokenizer_pool import (
    GGUF,
    TokenizerPool,
    gguf_key,
    label,
    tiktoken_key,
    trained_key,
)

OPEN_GGUF = "open-gguf"
DEFAULT_KEY = tiktoken_key("cl100k_base")


class TokenizerPicker(QComboBox):
    picked = Signal(str)  # a tokenizer key
    availability_known = Signal()  # which encodings need a download is known now

    def __init__(self, pool: TokenizerPool, key: str = DEFAULT_KEY) -> None:
        super().__init__()
        self.pool = pool
        self.unavailable: dict[str, Unavailable] = {}
        self._gguf: list[Path] = []
        self._trained: list[Path] = []
        self._key = key
        self.chosen = False  # the person picked the tokenizer (not a default)
        self.jobs = Jobs(self)  # kind: "availability"
        # tiktoken's own list once it has been imported (off the GUI thread, on first use)
        self._names: list[str] = list(KNOWN_ENCODINGS)
        self.setMinimumWidth(220)
        self._fill()
        self.activated.connect(self._on_activated)

    def key(self) -> str:
        return self._key

    def set_key(self, key: str) -> None:
        if key.startswith(GGUF) and Path(key[len(GGUF) :]) not in self._gguf:
            self._gguf.append(Path(key[len(GGUF) :]))
        self._key = key
        self._fill()
        self.picked.emit(key)

    def set_trained(self, tokenizer_files: list[Path]) -> None:
        """Tokenizers trained in the Train tab (each run's tokenizer.json)."""
        self._trained = list(tokenizer_files)
        self._fill()

    def set_gguf_models(self, paths: list[Path]) -> None:
        extra = [p for p in self._gguf if p not in paths and gguf_key(p) == self._key]
        self._gguf = [*paths, *extra]
        self._fill()

    def check_availability(self) -> None:
        """Find out, off the GUI thread, which encodings load without a download."""
        from desktop.core.tokens.tiktoken_source import encoding_names, missing_file

        def work(_control: object) -> tuple[list[str], dict[str, Unavailable]]:
            names, missing = encoding_names(), {}
            for name in names:
                needed = missing_file(name)
                if needed is not None:
                    missing[tiktoken_key(name)] = why_unavailable(name, needed)
            return names, missing

        self.jobs.start(
            "availability", work,
            done=self._on_checked,
            failed=lambda exc: self.setToolTip(f"Could not list the encodings: {exc}"),
        )  # fmt: skip

    def _on_checked(self, result: tuple[list[str], dict[str, Unavailable]]) -> None:
        self._names, self.unavailable = result
        self._fill()
        self.availability_known.emit()

    def available_keys(self) -> list[str]:
        """Tokenizers usable now, offline: the library's GGUFs, trained ones, then the
        encodings already downloaded."""
        keys = [gguf_key(p) for p in self._gguf] + [trained_key(p) for p in self._trained]
        keys += [tiktoken_key(n) for n in self._names if tiktoken_key(n) not in self.unavailable]
        return keys

    def mark_available(self, key: str) -> None:
        self.unavailable.pop(key, None)
        self._fill()

    def _fill(self) -> None:
        self.blockSignals(True)
        self.clear()
        for name in self._names:
            key = tiktoken_key(name)
            missing = key in self.unavailable
            self.addItem(f"{name}  (not downloaded)" if missing else name, key)
            if missing:
                self.setItemData(self.count() - 1, QColor("#888"), Qt.ItemDataRole.ForegroundRole)
        self.insertSeparator(self.count())
        for path in self._gguf:
            self.addItem(f"{path.name}  (GGUF)", gguf_key(path))
        for path in self._trained:
            self.addItem(label(trained_key(path)), trained_key(path))
        self.addItem("Open GGUF…", OPEN_GGUF)
        index = self.findData(self._key)
        self.setCurrentIndex(max(0, index))
        self.blockSignals(False)

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        key = self.itemData(index)
        if key == OPEN_GGUF:
            path, _ = QFileDialog.getOpenFileName(self, "A GGUF model's tokenizer", "",
                                                  "GGUF models (*.gguf)")  # fmt: skip
            if not path:
                self.setCurrentIndex(max(0, self.findData(self._key)))
                return
            key = gguf_key(path)
        self.chosen = True
        self.set_key(str(key))

    def label(self) -> str:
        return label(self._key)

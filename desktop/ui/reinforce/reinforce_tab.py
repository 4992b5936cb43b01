"""The Reinforce tab (the talk's step 5): reinforcement learning on tasks a program
checks (the RL page), and RLHF from a person's preferences (the RLHF page).

The two pages share nothing but the app's stores; each runs its own jobs. The tab says
it is training while either page is, so the Chat tab's llama.cpp leaves a core free.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from desktop.core.storage.preferences import PreferenceStore
from desktop.core.train.runs_store import RunsStore
from desktop.ui.reinforce.rl_page import RLPage
from desktop.ui.reinforce.rlhf_page import RLHFPage


class ReinforceTab(QWidget):
    exported = Signal(str)  # a GGUF written into the library
    chat_requested = Signal(str)
    running_changed = Signal(bool)

    def __init__(
        self, runs: RunsStore | None = None, preferences: PreferenceStore | None = None
    ) -> None:
        super().__init__()
        self.rl_page = RLPage(runs or RunsStore())
        self.rlhf_page = RLHFPage(preferences)
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(self.rl_page, "RL with a verifier")
        self.pages.addTab(self.rlhf_page, "RLHF from preferences")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self.rl_page.exported.connect(self.exported)
        self.rl_page.chat_requested.connect(self.chat_requested)
        self._running = {"rl": False, "rlhf": False}
        self.rl_page.running_changed.connect(lambda on: self._on_running("rl", on))
        self.rlhf_page.running_changed.connect(lambda on: self._on_running("rlhf", on))

    def _on_running(self, page: str, running: bool) -> None:
        self._running[page] = running
        self.running_changed.emit(any(self._running.values()))

    def shutdown(self) -> None:
        """Closing: each page stops its job (a run saves itself) and waits for it."""
        self.rl_page.shutdown()
        self.rlhf_page.shutdown()

"""The Chat tab's model: loading it through the engine, showing how that went, and how much
of its context the open conversation fills.

The context is counted by the model's own tokenizer (a tokenize request to the engine), so
the figure is exact for that model rather than an estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QLabel

from desktop.core.model_info import ModelInfo
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.protocol import LoadedModel
from desktop.ui.app_settings import AppSettings
from desktop.ui.chat.model_bar import ModelBar
from desktop.ui.chat.settings_panel import SettingsPanel


class ModelLoader(QObject):
    ready = Signal()  # a model has loaded: the conversation's context can be counted

    def __init__(
        self,
        engine: InferenceEngine,
        settings: AppSettings,
        panel: SettingsPanel,
        model_bar: ModelBar,
        status: QLabel,
        context_label: QLabel,
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.settings = settings
        self.panel = panel
        self.model_bar = model_bar
        self.status = status
        self.context_label = context_label
        self.context_label.setToolTip("Tokens of the conversation, counted by the model itself")
        self.model: LoadedModel | None = None
        self.model_info: ModelInfo | None = None
        self.context_used = 0
        self._count_request = -1
        # Engine signals arrive from the engine's thread: every receiver here is a Slot.
        engine.load_started.connect(self._on_load_started)
        engine.load_progress.connect(model_bar.set_progress)
        engine.load_warning.connect(self._on_load_warning)
        engine.model_loaded.connect(self._on_model_loaded)
        engine.load_failed.connect(self._on_load_failed)
        engine.model_crashed.connect(self._on_crashed)
        engine.tokenized.connect(self._on_tokenized)

    def load(self, path: str) -> None:
        self.model_bar.add_and_select(path)
        self.settings.set("chat/recent_models", self.model_bar.recent)
        self.engine.load_requested.emit(path, self.panel.load_settings())

    @Slot(str)
    def _on_load_started(self, path: str) -> None:
        self.model = None
        self.model_bar.set_loading(True)
        self.status.setText(f"Loading {path}…")

    @Slot(str)
    def _on_load_warning(self, message: str) -> None:
        self.status.setText(f"⚠ {message}")

    @Slot(object)
    def _on_model_loaded(self, model: LoadedModel) -> None:
        self.model = model
        self.model_info = model.info if isinstance(model.info, ModelInfo) else None
        self.model_bar.set_loading(False)
        self.model_bar.show_model(self.model_info, model.context_size)
        self.settings.set("chat/last_model", model.path)
        no_template = not model.template.chat_template
        self.panel.base_mode.setChecked(no_template)  # each model starts in its own mode
        self.status.setText(
            f"Model ready in {model.load_seconds:.1f} s · context {model.context_size:,} tokens"
            + (" · no chat template: base-model mode is on" if no_template else "")
        )
        self.ready.emit()

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.model = None
        self.model_bar.set_loading(False)
        self.model_bar.show_error(message)
        self.status.setText("No model loaded.")

    @Slot(str)
    def _on_crashed(self, message: str) -> None:
        self.model = None
        self.model_bar.show_error(message)

    # ---- context -------------------------------------------------------------------

    def count_tokens(self, request_id: int, text: str) -> None:
        """Ask the model's tokenizer how long `text` is; the answer updates the label.

        `request_id` comes from the tab's own counter: a failed count is reported on the
        engine's `failed` signal, and must not be mistaken for the streaming reply.
        """
        self._count_request = request_id
        self.engine.tokenize_requested.emit(request_id, text, True)

    @Slot(int, object, object)
    def _on_tokenized(self, request_id: int, ids: Sequence[int], _pieces: object) -> None:
        if request_id == self._count_request and self.model is not None:
            self.show_context(len(ids))

    def show_context(self, used: int) -> None:
        self.context_used = used
        size = self.model.context_size if self.model else 0
        share = used / size if size else 0.0
        colour = "#a40000" if share > 0.9 else "#555"
        self.context_label.setText(
            f'<span style="color:{colour}">Context {used:,} / {size:,} tokens</span>'
        )

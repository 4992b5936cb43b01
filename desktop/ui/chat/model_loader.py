"""The Chat tab's model: loading it through the engine and showing how that went, with the
context it really got (llama.cpp gives at least 256 tokens, and never more than the model
was trained for) and why, when that differs from the setting."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QLabel

from desktop.core.models.model_info import ModelInfo
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.protocol import LoadedModel
from desktop.ui.app_settings import AppSettings
from desktop.ui.chat.model_bar import ModelBar
from desktop.ui.chat.settings_panel import ChatSettingsPanel


def context_note(model: LoadedModel, asked: int) -> str:
    """Why the model got another context than the one asked for, if it did."""
    info = model.info if isinstance(model.info, ModelInfo) else None
    trained = info.context_length if info is not None else 0
    if model.context_size == asked:
        return ""
    if trained and model.context_size >= trained and asked > trained:
        return f" (asked for {asked:,}; the model was trained for {trained:,})"
    if model.context_size > asked:
        return f" (asked for {asked:,}; llama.cpp's minimum is {model.context_size:,})"
    return f" (asked for {asked:,})"


class ModelLoader(QObject):
    ready = Signal(object)  # LoadedModel: a model has loaded
    gone = Signal()  # the model failed to load or crashed

    def __init__(
        self,
        engine: InferenceEngine,
        settings: AppSettings,
        panel: ChatSettingsPanel,
        model_bar: ModelBar,
        status: QLabel,
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.settings = settings
        self.panel = panel
        self.model_bar = model_bar
        self.status = status
        self.model: LoadedModel | None = None
        self.model_info: ModelInfo | None = None
        self._asked = 0
        # Engine signals arrive from the engine's thread: every receiver here is a Slot.
        engine.load_started.connect(self._on_load_started)
        engine.load_progress.connect(model_bar.set_progress)
        engine.load_warning.connect(self._on_load_warning)
        engine.model_loaded.connect(self._on_model_loaded)
        engine.load_failed.connect(self._on_load_failed)
        engine.model_crashed.connect(self._on_crashed)

    def load(self, path: str) -> None:
        self.model_bar.add_and_select(path)
        self.settings.set("chat/recent_models", self.model_bar.recent)
        settings = self.panel.load_settings()
        self._asked = settings.context_size
        self.engine.load_requested.emit(path, settings)

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
        asked = self._asked or self.panel.context_size.value()
        self.status.setText(
            f"Model ready in {model.load_seconds:.1f} s · context {model.context_size:,} "
            f"tokens{context_note(model, asked)}"
            + (f" · {model.runtime}, {model.threads} threads" if model.runtime else "")
        )
        self.ready.emit(model)

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.model = None
        self.model_bar.set_loading(False)
        self.model_bar.show_error(message)
        self.status.setText("No model loaded.")
        self.gone.emit()

    @Slot(str)
    def _on_crashed(self, message: str) -> None:
        """The sentence itself is shown once, where the work was cut (the reply, or the
        quiz); here, only that the model is gone."""
        self.model = None
        self.model_bar.show_error("The model crashed and is no longer loaded: press Load.")
        self.gone.emit()

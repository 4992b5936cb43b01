"""One wrapper over QSettings with a single table of defaults.

The file lives in the app's data folder, so `DEEPDIVE_HOME` (tests) redirects it too.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from PySide6.QtCore import QSettings

from desktop.core.chat.generation import LoadSettings, SamplingSettings
from desktop.core.quiz.settings import QuizSettings
from desktop.core.storage.paths import data_dir

DEFAULTS: dict[str, Any] = {
    # the Chat tab's sampling and loading: the core's own defaults, one source for them
    **{f"chat/{name}": value for name, value in asdict(SamplingSettings()).items()},
    "chat/context_size": LoadSettings().context_size,
    "chat/threads": LoadSettings().threads,  # 0: automatic
    "chat/overflow": "drop oldest",
    "chat/prompt_modes": "{}",  # JSON: model path -> the prompt mode last chosen for it
    "chat/base_style": "",  # JSON: the base-model prompt's identity and examples
    "chat/base_style_presets": "{}",  # JSON: name -> style
    "chat/show_probabilities": False,
    "chat/recent_models": [],
    "ui/zoom": 100,  # percent: presenter zoom (Ctrl+= / Ctrl+- / Ctrl+0)
    "ui/geometry": "",
    "lessons/progress": "{}",  # JSON: lesson file -> the step it was left at
    "lessons/shown": False,  # the main window's place and size (base64 of saveGeometry)
    "chat/last_model": "",
    # JSON: remote servers, their picked models (desktop/core/remote/servers.py); never a key
    "remote/servers": "[]",
    "server/port": 8484,  # the app's own API server (the main window's switch)
    "server/allow_network": False,
    "compare/model_a": "",
    "compare/model_b": "",
    # the Quiz tab: QuizSettings' own defaults, so there is one source for them
    **{f"quiz/{name}": value for name, value in QuizSettings().to_dict().items()},
    "quiz/unsure_refuses": True,
}


class AppSettings:
    def __init__(self) -> None:
        self._qt = QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)

    def get(self, key: str) -> Any:
        default = DEFAULTS[key]
        value = self._qt.value(key, default)
        # INI files store strings; give values back in the type of their default.
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if isinstance(default, list):
            if value in (None, ""):
                return []
            return list(value) if isinstance(value, (list, tuple)) else [value]
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any) -> None:
        if key not in DEFAULTS:
            raise KeyError(f"unknown setting {key!r}: add it to DEFAULTS")
        self._qt.setValue(key, value)

    def sync(self) -> None:
        self._qt.sync()

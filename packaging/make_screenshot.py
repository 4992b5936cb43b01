"""Make the README screenshot: the real app, the real llama.cpp, the bundled starter model.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_screenshot.py resources/screenshot.png

The starter model (172K parameters, trained on the five bundled articles) continues a
sentence in raw-text mode: it writes in its articles' voice, sure of some tokens and not of
others, which is what the screenshot shows — token probabilities, the modes, the figures.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(out: str) -> int:
    home = Path(tempfile.mkdtemp(prefix="deepdive-shot-"))
    os.environ["DEEPDIVE_HOME"] = str(home)
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.core.resources import bundled_models
    from desktop.ui.main_window import MainWindow

    model = bundled_models()[0]  # the base starter model: raw text shows what it learned

    app = QApplication(sys.argv)  # noqa: F841 (must outlive the window)
    window = MainWindow()
    window.resize(1360, 820)
    window.show()
    chat = window.chat_tab

    def wait(condition: object, timeout_ms: int = 30_000) -> None:
        loop = QEventLoop()
        timer = QTimer(interval=20)
        timer.timeout.connect(lambda: condition() and loop.quit())  # type: ignore[operator]
        timer.start()
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        timer.stop()

    chat.panel.context_size.setValue(2048)
    chat.load_model(str(model))
    wait(lambda: chat.model is not None)
    chat.panel.set_mode("raw")
    chat.panel.show_probabilities.setChecked(True)
    chat.panel.max_tokens.setValue(48)
    chat.panel.temperature.setValue(0.0)  # the same picture every time
    chat.send("The Eiffel Tower was finished in")
    wait(lambda: not chat.busy)
    reply = chat.transcript.messages[-1]
    reply.body.setToolTip("")  # tooltips do not show in a grab
    wait(lambda: False, 300)
    window.grab().save(out)
    print(f"saved {out}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshot.png"))

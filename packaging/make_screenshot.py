"""Make the README screenshot: the real app, the real llama.cpp, a tiny random GGUF.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_screenshot.py resources/screenshot.png

The model is random (the Train tab will make a real one), so its words are noise; the
screenshot shows the machinery: streaming, token probabilities, the prompt, the figures.
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

    from desktop.core.models.bpe_vocab import byte_level_bpe_vocab
    from desktop.core.models.gguf_writer import LlamaShape, random_llama_weights, write_llama_gguf
    from desktop.core.storage.paths import models_dir
    from desktop.ui.main_window import MainWindow

    shape = LlamaShape(
        vocab_size=1024, dim=128, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=256,
        context_length=2048,
    )  # fmt: skip
    model = models_dir() / "tiny-random-chat.gguf"
    write_llama_gguf(model, shape, random_llama_weights(shape, 3), byte_level_bpe_vocab(1024))

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
    chat.panel.system_prompt.setPlainText("You are a tiny model that has not been trained yet.")
    chat.panel.show_probabilities.setChecked(True)
    chat.panel.max_tokens.setValue(60)
    chat.panel.seed.setValue(7)
    chat.send("Hello! What is the capital of France?")
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

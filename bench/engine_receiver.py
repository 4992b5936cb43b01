"""The part of the engine benchmarks that is the same in each: a GUI-thread receiver that
waits in an event loop for the engine's answers, and an engine started with a model loaded.

Qt and the app are imported inside the functions: benchmarks import them only after they
have set up their data folder (and the model host re-runs a benchmark's top level).
"""

from __future__ import annotations

from typing import Any


def receiver_base() -> Any:
    """A QObject class to subclass: `wait` runs an event loop until `_done` (or a timeout);
    the load slots fill `model` or `error`."""
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot

    from desktop.engine.protocol import LoadedModel

    class Receiver(QObject):
        """Lives in the GUI thread: the engine's signals arrive here through the event queue."""

        def __init__(self) -> None:
            super().__init__()
            self.loop: QEventLoop | None = None
            self.model: LoadedModel | None = None
            self.error = ""

        def wait(self, timeout_s: float) -> None:
            loop = QEventLoop()
            self.loop = loop
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
            self.loop = None

        def _done(self) -> None:
            if self.loop is not None:
                self.loop.quit()

        @Slot(object)
        def on_loaded(self, model: LoadedModel) -> None:
            self.model = model
            self._done()

        @Slot(str)
        def on_load_failed(self, message: str) -> None:
            self.error = message
            self._done()

    return Receiver


def start_engine(engine: Any, receiver: Any, path: str, context: int, threads: int) -> None:
    """Start `engine` (its other signals already connected to `receiver`) and load `path`;
    exit the benchmark with the reason if the model does not load."""
    from desktop.core.chat.generation import LoadSettings

    engine.model_loaded.connect(receiver.on_loaded)
    engine.load_failed.connect(receiver.on_load_failed)
    engine.start()
    engine.load_requested.emit(path, LoadSettings(context_size=context, threads=threads))
    receiver.wait(120)
    if receiver.model is None:
        engine.shutdown()
        raise SystemExit(f"the engine could not load the model: {receiver.error or 'timeout'}")
    print(f"engine loaded the model in {receiver.model.load_seconds:.2f} s (host process)")

"""The app's API server as a switch: the loaded model served like LM Studio's, through the
same engine as the Chat tab (API requests queue behind its replies and a quiz run).

The server's threads call `log` for every request; the line crosses to the GUI thread as a
queued signal, never by touching a widget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.engine.inference_engine import InferenceEngine

if TYPE_CHECKING:  # imported when first started: the window opens without it
    from desktop.engine.api_server import ApiServer

LOOPBACK = "127.0.0.1"
EVERY_ADDRESS = "0.0.0.0"  # other computers: every network interface


class ServerSwitch(QObject):
    running_changed = Signal(bool)
    log_line = Signal(str)  # emitted from the server's threads; queued to receivers

    def __init__(self, engine: InferenceEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.server: ApiServer | None = None

    @property
    def running(self) -> bool:
        return self.server is not None and self.server.running

    @property
    def url(self) -> str:
        return self.server.url if self.server is not None else ""

    def start(self, port: int, api_key: str = "", allow_network: bool = False) -> str:
        """Start serving; "" when it runs, else the sentence saying why not (the port is
        taken, say)."""
        from desktop.engine.api_server import ApiServer, ServerError

        self.stop()
        host = EVERY_ADDRESS if allow_network else LOOPBACK
        try:
            server = ApiServer(self.engine, host=host, port=port, api_key=api_key,
                               allow_network=allow_network, log=self.log_line.emit)  # fmt: skip
            server.start()
        except ServerError as exc:
            return str(exc)
        self.server = server
        self.log_line.emit(f"Listening on {server.url}")
        self.running_changed.emit(True)
        return ""

    def stop(self) -> None:
        """Stop listening and end the requests in flight. Before the engine shuts down."""
        server, self.server = self.server, None
        if server is not None:
            server.stop()
            self.log_line.emit("Stopped.")
            self.running_changed.emit(False)

"""The Pause / Resume button of a training-like run (the Train and Post-train tabs)."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QLabel

from desktop.engine.run_session import RunSession


def toggle_pause(session: RunSession, button: QAbstractButton, status: QLabel) -> None:
    """Pause a running `session`, or resume a paused one, and say which."""
    if session.paused:
        session.resume()
        button.setText("Pause")
        status.setText("Training…")
    else:
        session.pause()
        button.setText("Resume")
        status.setText("Paused: Resume continues, Stop saves and ends.")

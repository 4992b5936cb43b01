"""Engine fixtures: sessions and engines that are always shut down, threads checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from desktop.engine.host_session import HostSession
from desktop.engine.scripted_backend import BACKEND_NAME as SCRIPTED


@pytest.fixture
def scripted_session() -> Iterator[Any]:
    sessions: list[HostSession] = []

    def make(**script: Any) -> HostSession:
        session = HostSession(SCRIPTED, script)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def llama_session() -> Iterator[HostSession]:
    session = HostSession()
    yield session
    session.close()

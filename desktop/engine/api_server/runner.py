"""Who runs the server's requests with the model: one at a time, in order, on the thread
that owns the HostSession. In the app that is the engine thread (`InferenceEngine.submit`,
so API requests queue with the Chat tab's replies); on the command line, `SessionRunner`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol, TypeVar

from desktop.engine.host_session import HostSession
from desktop.engine.protocol import LoadedModel

T = TypeVar("T")


class Runner(Protocol):
    @property
    def loaded_model(self) -> LoadedModel | None: ...

    def submit(self, work: Callable[[HostSession, int], T]) -> Future[T]: ...


class SessionRunner:
    """A HostSession owned by one worker thread: work runs there in submission order
    (a single-worker pool is exactly a FIFO queue with one consumer)."""

    def __init__(self, session: HostSession, threads: int = 0) -> None:
        self.session = session
        self.threads = threads  # 0: those the model was loaded with
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-model")

    @property
    def loaded_model(self) -> LoadedModel | None:
        return self.session.model

    def submit(self, work: Callable[[HostSession, int], T]) -> Future[T]:
        return self._pool.submit(work, self.session, self.threads)

    def close(self) -> None:
        """Skip what is still queued, wait for the request in flight (stop it first)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

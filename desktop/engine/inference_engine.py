"""InferenceEngine: a QObject in its own QThread, driving a HostSession.

The GUI talks to it only through queued signals (`*_requested`) and gets answers as
signals. Stop is the exception: `stop()` is called directly from the GUI thread and goes
around the event queue, because the engine thread is busy streaming and a queued stop
would only arrive after the reply has ended.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.core.generation import GenerationRequest, LoadSettings
from desktop.engine.engine_task import EngineTask
from desktop.engine.host_session import (
    HARD_STOP_AFTER_S,
    HostSession,
    ModelCrashed,
    SessionError,
)
from desktop.engine.model_host import LLAMA_BACKEND
from desktop.engine.protocol import LoadedModel


class _TaskKeeper(QObject):
    """Lives in the GUI thread and holds the tasks handed to the engine until it is done."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[int, EngineTask] = {}
        self._ids = itertools.count(1)

    def keep(self, task: EngineTask) -> int:
        task_id = next(self._ids)
        self.tasks[task_id] = task
        return task_id

    @Slot(int)
    def release(self, task_id: int) -> None:
        self.tasks.pop(task_id, None)


class InferenceEngine(QObject):
    # requests: GUI -> engine (queued across threads)
    load_requested = Signal(str, object)  # path, LoadSettings
    generate_requested = Signal(object)  # GenerationRequest
    tokenize_requested = Signal(int, str, bool)  # request id, text, parse special tokens
    unload_requested = Signal()
    task_requested = Signal(int)  # the id of a task handed over with run_task
    _shutdown_requested = Signal()

    # answers: engine -> GUI
    load_started = Signal(str)
    load_progress = Signal(float)
    load_warning = Signal(str)
    model_loaded = Signal(object)  # LoadedModel
    load_failed = Signal(str)
    generation_started = Signal(int)
    tokens = Signal(int, object)  # request id, a batch (tuple) of TokenEvents
    finished = Signal(object)  # GenerationStats
    failed = Signal(int, str)  # request id, message
    model_crashed = Signal(str)
    tokenized = Signal(int, object, object)  # request id, ids, pieces
    busy_changed = Signal(bool)
    task_released = Signal(int)  # the engine thread is done with that task

    def __init__(
        self,
        backend: str = LLAMA_BACKEND,
        backend_kwargs: dict[str, Any] | None = None,
        hard_stop_after: float = HARD_STOP_AFTER_S,
    ) -> None:
        super().__init__()
        self._session = HostSession(backend, backend_kwargs, hard_stop_after)
        self._thread: QThread | None = None
        self._closing = False
        self.load_requested.connect(self._load)
        self.generate_requested.connect(self._generate)
        self.tokenize_requested.connect(self._tokenize)
        self.unload_requested.connect(self._unload)
        self.task_requested.connect(self._run_task)
        # Tasks cross the thread by id, and the GUI-thread keeper lets go of them once the
        # engine has: a task is a GUI-thread QObject, so its last reference must drop there.
        self._tasks = _TaskKeeper()
        self.task_released.connect(self._tasks.release)
        # Per-request stop flags of generate requests (see stop_request).
        self._request_stops: dict[int, threading.Event] = {}
        self._shutdown_requested.connect(self._shutdown)

    # ---- GUI-thread API ------------------------------------------------------------

    def start(self) -> None:
        """Move to a new QThread and start it. Call once, from the GUI thread."""
        thread = QThread()
        thread.setObjectName("inference-engine")
        self.moveToThread(thread)
        thread.start()
        self._thread = thread

    def stop(self) -> None:
        """Thread-safe: stop the current generation or load.

        Call it directly. Do not connect a signal to it: the engine lives in its own
        thread, so the call would be queued behind the very work it should stop.
        """
        self._session.stop()

    def run_task(self, task: EngineTask) -> None:
        """Queue a task after whatever the engine is doing. Call from the GUI thread."""
        self.task_requested.emit(self._tasks.keep(task))

    def stop_request(self, request_id: int) -> None:
        """Thread-safe: stop one generate request, streaming or still queued, and nothing
        else (a quiz task after it, say). Stop a load with `stop`."""
        self._request_stops.setdefault(request_id, threading.Event()).set()

    def cancel_task(self, task: EngineTask) -> None:
        """Thread-safe: the task stops at its next token; a queued one never starts.

        Only the task's own flag is set: its requests poll it (HostSession.generate), so
        a Chat reply or a later request is never stopped by it."""
        task.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop, end the host process and the thread. Call from the GUI thread."""
        self._closing = True  # requests still queued become no-ops
        for task in list(self._tasks.tasks.values()):
            task.cancel()
        self.stop()
        thread = self._thread
        if thread is None:
            self._session.close()
            return
        self._shutdown_requested.emit()
        if not thread.wait(timeout_ms):
            # Never let go of a running QThread (Qt aborts): end the host, which ends
            # whatever the engine thread is waiting for, then wait for it.
            self._session.kill_host()
            thread.wait()
        self._thread = None

    @property
    def loaded_model(self) -> LoadedModel | None:
        return self._session.model

    @property
    def host_pid(self) -> int | None:
        return self._session.host_pid

    # ---- engine-thread slots -------------------------------------------------------

    @Slot()
    def _shutdown(self) -> None:
        self._session.close()
        thread = QThread.currentThread()
        if thread is self._thread:
            thread.quit()

    @Slot()
    def _unload(self) -> None:
        if self._closing:
            return
        self._session.unload()

    @Slot(str, object)
    def _load(self, path: str, settings: LoadSettings) -> None:
        if self._closing:
            return
        self.busy_changed.emit(True)
        self.load_started.emit(path)
        try:
            model = self._session.load(
                path, settings, self.load_progress.emit, self.load_warning.emit
            )
            self.model_loaded.emit(model)
        except SessionError as exc:
            self.load_failed.emit(str(exc))
        finally:
            self.busy_changed.emit(False)

    @Slot(object)
    def _generate(self, request: GenerationRequest) -> None:
        if self._closing:
            return
        rid = request.request_id
        stop = self._request_stops.setdefault(rid, threading.Event())
        self.busy_changed.emit(True)
        self.generation_started.emit(rid)
        try:
            stats = self._session.generate(
                request, lambda batch: self.tokens.emit(rid, batch), stop
            )
            self.finished.emit(stats)
        except ModelCrashed as exc:
            self.failed.emit(rid, str(exc))
            self.model_crashed.emit(str(exc))
        except SessionError as exc:
            self.failed.emit(rid, str(exc))
        finally:
            self._request_stops.pop(rid, None)
            self.busy_changed.emit(False)

    @Slot(int)
    def _run_task(self, task_id: int) -> None:
        task = self._tasks.tasks.get(task_id)
        if task is None:
            return
        if self._closing:
            task.cancel()
        self.busy_changed.emit(True)
        try:
            task.run(self._session)
        except ModelCrashed as exc:
            self.model_crashed.emit(str(exc))
        finally:
            del task  # before the GUI thread may drop the last reference
            self.busy_changed.emit(False)
            self.task_released.emit(task_id)

    @Slot(int, str, bool)
    def _tokenize(self, request_id: int, text: str, parse_special: bool) -> None:
        if self._closing:
            return
        try:
            ids, pieces = self._session.tokenize(request_id, text, parse_special)
            self.tokenized.emit(request_id, ids, pieces)
        except ModelCrashed as exc:
            self.failed.emit(request_id, str(exc))
            self.model_crashed.emit(str(exc))
        except SessionError as exc:
            self.failed.emit(request_id, str(exc))

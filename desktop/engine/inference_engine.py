"""InferenceEngine: a QObject in its own QThread, driving a HostSession.

The GUI talks to it through queued signals (loads) and tasks (everything that uses the
loaded model: a chat reply, a prompt preview, a quiz). A task is created in the GUI
thread, its signals connected there, and handed over with `run_task`: its answers go to
its asker only. Stop is a direct call that goes around the event queue (`cancel` on a
task, `stop` for a load), because the engine thread is busy and a queued stop would only
arrive after the work it should stop.

The engine owns the loaded model and lends it: a tab that needs it for a long time (the
quiz) takes a lease, and the others see who holds it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.core.chat.generation import LoadSettings
from desktop.core.models.cpu import OtherLoad, threads_for_request
from desktop.engine.engine_task import EngineTask
from desktop.engine.host_session import (
    HARD_STOP_AFTER_S,
    HostSession,
    ModelCrashed,
    SessionError,
)
from desktop.engine.model_host import LLAMA_BACKEND
from desktop.engine.protocol import LoadedModel

T = TypeVar("T")
# Work handed over with `submit`: called in the engine thread with the session and the CPU
# threads a request should use now (threads_now).
SessionWork = Callable[[HostSession, int], Any]


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
    unload_requested = Signal()
    task_requested = Signal(int)  # the id of a task handed over with run_task
    _call_requested = Signal(object)  # (work, Future): `submit`, from any thread
    _shutdown_requested = Signal()

    # answers: engine -> GUI
    load_started = Signal(str)
    load_progress = Signal(float)
    load_warning = Signal(str)
    model_loaded = Signal(object)  # LoadedModel
    load_failed = Signal(str)
    model_crashed = Signal(str)
    busy_changed = Signal(bool)
    task_released = Signal(int)  # the engine thread is done with that task
    lease_changed = Signal(str)  # who holds the model now, in words ("" when nobody)

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
        self._holder = ""
        self.threads_setting = 0  # the person's choice; 0: automatic
        self.training = False  # a training run in this app has a core: leave it one
        self._other_load = OtherLoad()
        self.load_requested.connect(self._load)
        self.unload_requested.connect(self._unload)
        self.task_requested.connect(self._run_task)
        # Tasks cross the thread by id, and the GUI-thread keeper lets go of them once the
        # engine has: a task is a GUI-thread QObject, so its last reference must drop there.
        self._tasks = _TaskKeeper()
        self.task_released.connect(self._tasks.release)
        self._shutdown_requested.connect(self._shutdown)
        self._call_requested.connect(self._run_call)

    # ---- GUI-thread API ------------------------------------------------------------

    def start(self) -> None:
        """Move to a new QThread and start it. Call once, from the GUI thread."""
        thread = QThread()
        thread.setObjectName("inference-engine")
        self.moveToThread(thread)
        thread.start()
        self._thread = thread

    def stop(self) -> None:
        """Thread-safe: stop the model loading (a task is stopped with its `cancel`).

        Call it directly. Do not connect a signal to it: the engine lives in its own
        thread, so the call would be queued behind the very work it should stop.
        """
        self._session.stop()

    def run_task(self, task: EngineTask) -> None:
        """Queue a task after whatever the engine is doing. Call from the GUI thread, after
        connecting the task's signals."""
        self.task_requested.emit(self._tasks.keep(task))

    def submit(self, work: Callable[[HostSession, int], T]) -> Future[T]:
        """Thread-safe: run `work(session, threads)` in the engine thread after whatever is
        queued before it (the Chat tab's replies, a quiz), and get its result as a Future.

        For callers that are not widgets (the API server's request threads): no QObject
        crosses a thread, and the caller waits on the Future. Cancelling the Future before
        it starts skips the work; work that has started stops through its own flag (the
        `cancelled` event it passes to HostSession.generate)."""
        future: Future[T] = Future()
        if self._closing:
            future.set_exception(SessionError("The app is closing."))
        else:
            self._call_requested.emit((work, future))
        return future

    def threads_now(self) -> int:
        """CPU threads for the next request: those the model was loaded with (the setting,
        or the physical cores), one fewer while a training run in the app keeps a core
        busy, one fewer while other programs do; 0 when no model is loaded. Engine thread:
        reading the other load takes a few ms."""
        model = self._session.model
        loaded = model.threads if model is not None else 0
        if self.threads_setting or not loaded:
            return self.threads_setting or loaded
        return threads_for_request(loaded, training=self.training,
                                   other_cores=self._other_load.cores())  # fmt: skip

    # ---- the model lease -------------------------------------------------------------

    @property
    def holder(self) -> str:
        """Who has the model for a long job ("the Quiz tab"), or "" when it is free."""
        return self._holder

    def acquire(self, holder: str) -> bool:
        """Take the model for a long job; False if someone else holds it. GUI thread."""
        if self._holder and self._holder != holder:
            return False
        if self._holder != holder:
            self._holder = holder
            self.lease_changed.emit(holder)
        return True

    def release(self, holder: str) -> None:
        if self._holder == holder:
            self._holder = ""
            self.lease_changed.emit("")

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
        except Exception as exc:  # a bug must not leave the tab on "Loading…"
            name = path.rsplit("/", 1)[-1]
            self.load_failed.emit(f"{name} could not be loaded ({type(exc).__name__}: {exc}).")
        finally:
            self.busy_changed.emit(False)

    @Slot(object)
    def _run_call(self, call: tuple[SessionWork, Future[Any]]) -> None:
        work, future = call
        if not future.set_running_or_notify_cancel():
            return  # cancelled while it waited
        if self._closing:
            future.set_exception(SessionError("The app is closing."))
            return
        self.busy_changed.emit(True)
        try:
            future.set_result(work(self._session, self.threads_now()))
        except ModelCrashed as exc:
            future.set_exception(exc)
            self.model_crashed.emit(str(exc))
        except Exception as exc:  # the caller gets it; the engine thread lives on
            future.set_exception(exc)
        finally:
            self.busy_changed.emit(False)

    @Slot(int)
    def _run_task(self, task_id: int) -> None:
        task = self._tasks.tasks.get(task_id)
        if task is None:
            return
        if self._closing:
            task.cancel()
        task.threads = self.threads_now()
        self.busy_changed.emit(True)
        try:
            task.run(self._session)
        except ModelCrashed as exc:
            self.model_crashed.emit(str(exc))
        finally:
            del task  # before the GUI thread may drop the last reference
            self.busy_changed.emit(False)
            self.task_released.emit(task_id)

"""The Chat tab's side of the tool loop, step by step: for each call of a reply, ask the
person when it needs approval (the card's buttons answer `decide`), run it off the GUI
thread (a job of kind "tool"; Stop cancels the sandbox run within ~50 ms), store the result as
a tool message, and when every call of the reply has its result, say `all_done` so the
session asks the model again. The rules (what needs approval, what a refusal says) are
desktop/core/tools'; the work is desktop/engine/tool_runner.py's."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.api.tool_calls import ToolCall
from desktop.core.storage.conversations import ConversationStore
from desktop.core.tools.tool_loop import needs_approval
from desktop.core.tools.tool_results import ToolOutcome, failed_outcome, refused_outcome
from desktop.engine.background import JobControl
from desktop.engine.jobs import Jobs
from desktop.engine.tool_runner import ToolKit, run_call

ALWAYS_KEY = "always_allow_code"  # in the conversation's settings


class ToolSteps(QObject):
    approval_needed = Signal(str)  # call id
    stage = Signal(str, str)  # call id, "compiling" | "running" | "searching"
    outcome = Signal(str, object)  # call id, ToolOutcome (stored already)
    all_done = Signal()  # every call answered: ask the model again
    stopped = Signal()

    def __init__(self, store: ConversationStore, make_kit: Callable[[], ToolKit]) -> None:
        super().__init__()
        self.store = store
        self.make_kit = make_kit
        self.conversation_id = 0
        self.queue: list[ToolCall] = []
        self.kit: ToolKit | None = None
        self.jobs = Jobs(self)  # kind: "tool", one call at a time
        self._cancel = threading.Event()

    @property
    def active(self) -> bool:
        return bool(self.queue)

    def begin(self, conversation_id: int, calls: tuple[ToolCall, ...],
              offered: tuple[str, ...]) -> None:  # fmt: skip
        self.conversation_id = conversation_id
        self.queue = list(calls)
        self.kit = self.make_kit()
        self.kit.offered = offered
        self._cancel = threading.Event()
        self._next()

    def always_allowed(self) -> bool:
        settings = self.store.get_conversation(self.conversation_id).settings
        return bool(settings.get(ALWAYS_KEY))

    def _next(self) -> None:
        if not self.queue:
            self.all_done.emit()
            return
        call = self.queue[0]
        if needs_approval(call, self.always_allowed()):
            self.approval_needed.emit(call.id)
        else:
            self._run(call, "always" if call.name == "run_python" else "not needed")

    @Slot(str, str)
    def decide(self, call_id: str, decision: str) -> None:
        if not self.queue or self.queue[0].id != call_id or self.jobs.running("tool"):
            return
        call = self.queue[0]
        if decision == "refuse":
            self._store(refused_outcome(call))
            return
        if decision == "always":
            settings = dict(self.store.get_conversation(self.conversation_id).settings)
            settings[ALWAYS_KEY] = True
            self.store.set_settings(self.conversation_id, settings)
        self._run(call, "always" if decision == "always" else "asked")

    def _run(self, call: ToolCall, approval: str) -> None:
        kit, cancel = self.kit, self._cancel
        assert kit is not None

        def work(control: JobControl) -> ToolOutcome:
            return run_call(call, kit, cancel, progress=control.status, approval=approval)

        self.jobs.start("tool", work, status=self._on_stage, done=self._on_result,
                        failed=self._on_failed)  # fmt: skip

    def _on_stage(self, stage: str) -> None:
        if self.queue:
            self.stage.emit(self.queue[0].id, stage)

    def _on_failed(self, exc: BaseException) -> None:
        if self.queue:
            sentence = f"The tool failed unexpectedly ({type(exc).__name__}: {exc})."
            self._store(failed_outcome(self.queue[0], sentence))

    def _on_result(self, outcome: ToolOutcome) -> None:
        if self.queue and not self._cancel.is_set():
            self._store(outcome)

    def _store(self, outcome: ToolOutcome) -> None:
        self.store.add_tool_result(self.conversation_id, outcome)
        self.queue.pop(0)
        self.outcome.emit(outcome.call_id, outcome)
        self._next()

    def stop(self) -> None:
        """Stop the run under way (and the loop): calls left unanswered read as not run."""
        if not self.queue:
            return
        self._cancel.set()
        self.jobs.cancel("tool")
        self.queue = []
        self.stopped.emit()

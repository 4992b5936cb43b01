"""One round of Compare: two models answer the same messages, one after the other, on the
app's one engine.

Why one engine, each model loaded in turn: a second engine would keep a second model
resident (a host process plus its weights: +380 MB for Gemma 3 270M, gigabytes for 1-3 B
models, and a model that fits alone may not fit twice), while switching costs one warm load
per round (0.25 s for a 135M Q8_0, 0.9-1.1 s for Gemma 3 270M Q4_K_M here): the model
already loaded answers first, so a round needs at most one load. The two replies must not
run at the same time anyway - on two cores they would halve each other's tokens/s. The
round holds the engine's lease, so the Chat and Quiz tabs wait and never find another model
under their feet; the Chat tab, the Quiz tab and the API server show whichever model is
loaded, as always.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.chat.context_fit import FittedPrompt
from desktop.core.chat.generation import LoadSettings
from desktop.engine.engine_task import ReplyTask
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.protocol import LoadedModel

HOLDER = "the Compare window"  # how the other tabs name who has the model


@dataclass(frozen=True)
class Side:
    key: str  # "a" or "b"
    path: str  # a GGUF path or remote:<URL>#<model>


def answer_order(sides: list[Side], loaded: LoadedModel | None) -> list[Side]:
    """The model already loaded goes first: a round then needs at most one load."""
    first = [s for s in sides if loaded is not None and s.path == loaded.path]
    return first[:1] + [s for s in sides if s not in first[:1]]


class CompareRun(QObject):
    loading = Signal(str)  # side key: its model is being loaded
    load_note = Signal(str, str)  # side key, what the load said (what is sent where)
    loaded = Signal(str, object)  # side key, LoadedModel
    prompt_ready = Signal(str, object)  # side key, FittedPrompt
    tokens = Signal(str, object)  # side key, a batch of TokenEvents
    finished = Signal(str, object)  # side key, ChatReply (a stopped one too)
    failed = Signal(str, str)  # side key, a sentence (what came so far stays shown)
    done = Signal()

    def __init__(
        self,
        engine: InferenceEngine,
        sides: list[Side],
        request_for: Callable[[Side], ChatRequest],
        load_settings: LoadSettings,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.sides = sides
        self.request_for = request_for
        self.load_settings = load_settings
        self.queue: list[Side] = []
        self.task: ReplyTask | None = None
        self.state = "idle"  # idle, loading, asking
        self.cancelled = False

    @property
    def running(self) -> bool:
        return self.state != "idle"

    def start(self) -> str:
        """Begin the round; "" when it started, else why not (the quiz has the model)."""
        if self.engine.holder and self.engine.holder != HOLDER:
            holder = self.engine.holder
            return f"{holder[:1].upper()}{holder[1:]} is using the model: compare when it is done."
        self.engine.acquire(HOLDER)
        self.queue = answer_order(self.sides, self.engine.loaded_model)
        self.cancelled = False
        # Load answers reach every listener; this round is the only one loading while it
        # holds the lease, so what arrives while it waits is its own.
        self.engine.load_warning.connect(self._on_load_warning)
        self.engine.model_loaded.connect(self._on_model_loaded)
        self.engine.load_failed.connect(self._on_load_failed)
        self._next()
        return ""

    def cancel(self) -> None:
        """Stop now: the load under way, or the reply at its next token."""
        self.cancelled = True
        if self.state == "loading":
            self.engine.stop()
        elif self.task is not None:
            self.task.cancel()

    def _next(self) -> None:
        if self.cancelled or not self.queue:
            self._end()
            return
        side = self.queue[0]
        model = self.engine.loaded_model
        if model is not None and model.path == side.path:
            self._ask(side)
            return
        self.state = "loading"
        self.loading.emit(side.key)
        self.engine.load_requested.emit(side.path, self.load_settings)

    def _ask(self, side: Side) -> None:
        self.state = "asking"
        task = self.task = ReplyTask(self.request_for(side))
        task.prompt_ready.connect(self._on_prompt)
        task.tokens.connect(self._on_tokens)
        task.finished.connect(self._on_finished)
        task.ended.connect(self._on_ended)
        self.engine.run_task(task)

    def _side_done(self) -> None:
        self.queue.pop(0)
        self.task = None
        self._next()

    def _end(self) -> None:
        self.state = "idle"
        self.task = None
        for signal, slot in ((self.engine.load_warning, self._on_load_warning),
                             (self.engine.model_loaded, self._on_model_loaded),
                             (self.engine.load_failed, self._on_load_failed)):  # fmt: skip
            signal.disconnect(slot)
        self.engine.release(HOLDER)
        self.done.emit()

    # ---- the engine's answers (queued to the GUI thread) ---------------------------------

    @Slot(str)
    def _on_load_warning(self, message: str) -> None:
        if self.state == "loading":
            self.load_note.emit(self.queue[0].key, message)

    @Slot(object)
    def _on_model_loaded(self, model: LoadedModel) -> None:
        if self.state != "loading":
            return
        self.loaded.emit(self.queue[0].key, model)
        if self.cancelled:
            self._end()
        else:
            self._ask(self.queue[0])

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        if self.state == "loading":
            self.failed.emit(self.queue[0].key, message)
            self._side_done()

    def _current_key(self) -> str | None:
        if self.task is not None and self.sender() is self.task and self.queue:
            return self.queue[0].key
        return None

    @Slot(object)
    def _on_prompt(self, fitted: FittedPrompt) -> None:
        if (key := self._current_key()) is not None:
            self.prompt_ready.emit(key, fitted)

    @Slot(object)
    def _on_tokens(self, batch: object) -> None:
        if (key := self._current_key()) is not None:
            self.tokens.emit(key, batch)

    @Slot(object)
    def _on_finished(self, reply: ChatReply) -> None:
        if (key := self._current_key()) is not None:
            self.finished.emit(key, reply)

    @Slot(str, str)
    def _on_ended(self, status: str, message: str) -> None:
        if (key := self._current_key()) is None:
            return
        if status == "failed":
            self.failed.emit(key, message)
        self._side_done()

"""The open conversation and the reply being written - everything the Chat tab shows, with
no widgets: the tab renders what this object says.

One reply at a time. The user's message is committed to SQLite before the model is
asked; the reply row exists before the request goes out; the partial reply is committed
every half second, so a crash loses at most that. Each reply is an engine task whose
signals reach only this session (no filtering of other tabs' tokens), and the prompt it
was given - the exact text, its tokens, what was left out to fit - is stored with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.chat.context_fit import FittedPrompt
from desktop.core.chat.generation import ChatMessage, GenerationStats, TokenEvent
from desktop.core.chat.token_colours import events_to_json
from desktop.core.documents.citations import cited_passages
from desktop.core.storage.conversation_records import StoredMessage
from desktop.core.storage.conversations import ConversationStore
from desktop.core.tools.tool_format import read_reply
from desktop.engine.engine_task import ReplyTask
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.tool_runner import ToolKit
from desktop.ui.chat.tool_steps import ToolSteps

PERSIST_MS = 500
MakeRequest = Callable[[Sequence[ChatMessage]], ChatRequest]


def prompt_record(fitted: FittedPrompt) -> dict[str, Any]:
    """What is stored with a reply about the prompt that produced it: the text, and where
    in it the documents are (for View prompt), which tools it offered and how."""
    plan = fitted.plan
    record = {"text": plan.text, "mode": plan.mode, "tokens": fitted.prompt_tokens,
              "context": fitted.context_size, "stops": list(plan.stops),
              "note": "; ".join(n for n in (plan.note, fitted.note) if n)}  # fmt: skip
    if fitted.tools:
        record["tools"], record["tool_format"] = list(fitted.tools), fitted.tool_format
    documents = fitted.documents
    if documents is not None:
        start = plan.text.find(documents.block[:200]) if documents.block else -1
        record["documents"] = {
            "note": documents.note, "start": start,
            "end": start + len(documents.block) if start >= 0 else -1,
            "passages": [{"id": p.id, "title": p.title, "source": p.source, "text": p.text}
                         for p in documents.chosen],
        }  # fmt: skip
    return record


def known_passages(messages: Sequence[StoredMessage], fitted: FittedPrompt | None) -> list[Any]:
    """The passages put before the model for the latest question: its searches' results
    and the documents' chosen passages (what an answer may cite)."""
    known: list[Any] = []
    for message in reversed(messages):
        if message.role == "user":
            break
        if message.role == "tool" and message.tool:
            known += (message.tool.get("record") or {}).get("hits") or []
    if fitted is not None and fitted.documents is not None:
        known += [{"id": p.id, "title": p.title, "source": p.source, "text": p.text}
                  for p in fitted.documents.chosen]  # fmt: skip
    return known


class ChatSession(QObject):
    reply_started = Signal(int)  # the assistant message's id
    reply_prompt = Signal(object)  # FittedPrompt of the reply being written
    reply_tokens = Signal(object)  # a batch of TokenEvents
    reply_finished = Signal(object)  # GenerationStats (complete or stopped)
    reply_failed = Signal(str)  # a sentence
    tool_calls = Signal(int, object)  # the reply's message id, its ToolCalls: to be answered
    tools_ended = Signal()  # the tool steps were stopped (no new reply follows)
    context_counted = Signal(object)  # FittedPrompt of the next reply (the counter)
    preview_ready = Signal(object)  # FittedPrompt for "View prompt"
    preview_failed = Signal(str)

    def __init__(
        self,
        engine: InferenceEngine,
        store: ConversationStore,
        make_request: MakeRequest,
        make_kit: Callable[[], ToolKit] = lambda: ToolKit(()),
    ) -> None:
        super().__init__()
        self.tool_steps = ToolSteps(store, make_kit)
        self.tool_steps.all_done.connect(self._on_tools_done)
        self.tool_steps.stopped.connect(self.tools_ended)
        self.engine = engine
        self.store = store
        self.make_request = make_request
        self.conversation_id: int | None = None
        self.task: ReplyTask | None = None
        self.message_id = 0  # the reply being written
        self.text = ""  # ... and its text so far
        self.events: list[TokenEvent] = []
        self.prompt: FittedPrompt | None = None
        self.sources: list[Any] = []  # the passages the latest answer cites
        self._count: ReplyTask | None = None
        self._preview: ReplyTask | None = None
        self._persist = QTimer(self, interval=PERSIST_MS)
        self._persist.timeout.connect(self.persist)

    @property
    def busy(self) -> bool:
        return self.task is not None or self.tool_steps.active

    # ---- asking ----------------------------------------------------------------------

    def send(self, text: str) -> int | None:
        """Commit the user's message, then ask for the reply. The message's id, or None
        when it could not be stored (a full disk: the caller says so)."""
        if self.busy or self.conversation_id is None:
            return None
        message = self.store.add_message(self.conversation_id, "user", text)  # on disk first
        self.start_reply()
        return message.id

    def start_reply(self) -> None:
        """Ask for a reply to the open conversation as it is stored now."""
        assert self.conversation_id is not None and not self.busy
        request = self.make_request(self.store.chat_messages(self.conversation_id))
        stored = self.store.start_reply(self.conversation_id)
        self.message_id, self.text, self.events, self.prompt = stored.id, "", [], None
        task = self.task = ReplyTask(request)
        task.prompt_ready.connect(self._on_prompt)
        task.tokens.connect(self._on_tokens)
        task.finished.connect(self._on_finished)
        task.ended.connect(self._on_ended)
        self.reply_started.emit(stored.id)
        self._persist.start()
        self.engine.run_task(task)

    def stop(self) -> None:
        """Stop this reply at its next token (what it wrote so far is kept), or the tool
        steps (a run in the sandbox is stopped; no further reply is asked for)."""
        if self.task is not None:
            self.task.cancel()
        else:
            self.tool_steps.stop()

    @Slot()
    def _on_tools_done(self) -> None:
        if self.conversation_id is not None and self.task is None:
            self.start_reply()  # the model reads the results and goes on

    # ---- counting and previewing -------------------------------------------------------

    def count_context(self, pending: str = "") -> None:
        """Count the prompt the next reply would get (the context label)."""
        if self.conversation_id is None or self.engine.loaded_model is None:
            return
        if self._count is not None:
            self._count.cancel()  # only the latest count matters
        self._count = self._preview_task(pending)
        self._count.prompt_ready.connect(self._on_counted)
        self.engine.run_task(self._count)

    def preview(self, pending: str = "") -> None:
        """The prompt the next reply would get, with `pending` as the user's message."""
        if self.conversation_id is None:
            return
        self._preview = self._preview_task(pending)
        self._preview.prompt_ready.connect(self._on_preview)
        self._preview.ended.connect(self._on_preview_ended)
        self.engine.run_task(self._preview)

    def _preview_task(self, pending: str) -> ReplyTask:
        assert self.conversation_id is not None
        messages = self.store.chat_messages(self.conversation_id)
        if pending.strip():
            messages.append(ChatMessage("user", pending.strip()))
        return ReplyTask(self.make_request(messages), preview=True)

    @Slot(object)
    def _on_counted(self, fitted: FittedPrompt) -> None:
        if self.sender() is self._count:
            self.context_counted.emit(fitted)

    @Slot(object)
    def _on_preview(self, fitted: FittedPrompt) -> None:
        if self.sender() is self._preview:
            self.preview_ready.emit(fitted)

    @Slot(str, str)
    def _on_preview_ended(self, status: str, message: str) -> None:
        if self.sender() is self._preview and status == "failed":
            self.preview_failed.emit(message)

    # ---- the reply's answers -----------------------------------------------------------

    def _mine(self) -> bool:
        """Answers of a reply already ended (saved as the app closed, say) are not shown."""
        return self.task is not None and self.sender() is self.task

    @Slot(object)
    def _on_prompt(self, fitted: FittedPrompt) -> None:
        if self._mine():
            self.prompt = fitted
            self.reply_prompt.emit(fitted)

    @Slot(object)
    def _on_tokens(self, batch: Sequence[TokenEvent]) -> None:
        if self._mine():
            self.events.extend(batch)
            self.text += "".join(e.text for e in batch)
            self.reply_tokens.emit(batch)

    @Slot(object)
    def _on_finished(self, reply: ChatReply) -> None:
        if not self._mine():
            return
        stats = reply.stats
        self.text = stats.text if stats.stop_reason != "cancelled" else self.text
        coloured = bool(self.events[:1] and self.events[0].alternatives)
        probs = events_to_json(self.events) if coloured else None
        fitted = self.prompt
        stopped = stats.stop_reason == "cancelled"  # a stopped reply's calls are not run
        offered = fitted.tools if fitted is not None and not stopped else ()
        read = read_reply(self.text, fitted.tool_format if fitted else None, offered)
        record = self._stats_record(stats)
        tool = None
        if read.calls:
            tool = {"calls": [{"id": c.id, "name": c.name, "arguments": c.arguments}
                              for c in read.calls],
                    "content": read.content, "format": read.format}  # fmt: skip
        elif self.conversation_id is not None:
            known = known_passages(self.store.messages(self.conversation_id), fitted)
            if sources := cited_passages(self.text, known):
                record["sources"] = sources
        self.sources = record.get("sources", [])
        message_id, conversation_id = self.message_id, self.conversation_id
        self._finish("complete", record, probs, tool)
        self.reply_finished.emit(stats)
        if read.calls and conversation_id is not None and fitted is not None:
            self.tool_calls.emit(message_id, read.calls)
            self.tool_steps.begin(conversation_id, read.calls, fitted.tools)

    @Slot(str, str)
    def _on_ended(self, status: str, message: str) -> None:
        if not self._mine():
            return
        if status == "failed":
            self._finish("error", {"error": message, **self._prompt_part()})
            self.reply_failed.emit(message)
        elif status == "stopped":  # stopped before it began: an empty stopped reply
            self._finish("complete", {"stop_reason": "cancelled", **self._prompt_part()})
            self.reply_finished.emit(None)

    def _stats_record(self, stats: GenerationStats) -> dict[str, Any]:
        record = dataclasses.asdict(stats)
        record.pop("text", None)  # the content column holds it
        return {**record, **self._prompt_part()}

    def _prompt_part(self) -> dict[str, Any]:
        return {"prompt": prompt_record(self.prompt)} if self.prompt is not None else {}

    def _finish(self, status: str, stats: dict[str, Any], probs: Any = None,
                tool: dict[str, Any] | None = None) -> None:  # fmt: skip
        if self.task is None:
            return
        self._persist.stop()
        self.task = None
        self.store.finish_reply(self.message_id, self.text, status, stats, probs, tool)  # type: ignore[arg-type]

    @Slot()
    def persist(self) -> None:
        if self.task is not None:
            self.store.update_reply(self.message_id, self.text)

    def save_partial(self) -> None:
        """The app is closing mid-reply: keep what came so far, as a stopped reply."""
        if self.task is None:
            return
        self.task.cancel()
        self._finish("complete", {"stop_reason": "cancelled", "note": "the app was closed",
                                  **self._prompt_part()})  # fmt: skip

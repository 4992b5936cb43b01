"""A tool call carried out: Python in the code sandbox, or a search of the local
collection. Blocking and Qt-free: call it from a worker thread (the Chat tab's
BackgroundJob) or from `tool_turn.answer_with_tools` (tests, command line).

Nothing here raises for what the model asked: an unknown tool, a call without code, a
sandbox that cannot start or a folder that cannot be read all become a ToolOutcome whose
sentence goes back to the model."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.core.api.tool_calls import ToolCall
from desktop.core.documents.collection import (
    CollectionSources,
    SearchCollection,
    build_collection,
    search_result_text,
)
from desktop.core.sandbox.limits import SandboxLimits
from desktop.core.tools.tool_results import (
    ToolOutcome,
    failed_outcome,
    python_outcome,
    unknown_tool,
)
from desktop.core.tools.tool_specs import RUN_PYTHON, SEARCH, argument_text

Progress = Callable[[str], None]


class CollectionCache:
    """The search collection, built on first search and kept while its sources stay the
    same (thread-safe: the GUI thread changes the sources, a worker builds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: tuple[CollectionSources, SearchCollection] | None = None

    def get(self, sources: CollectionSources) -> SearchCollection:
        with self._lock:
            if self._built is None or self._built[0] != sources:
                self._built = (sources, build_collection(sources))
            return self._built[1]


@dataclass
class ToolKit:
    """What a call may use: the tools offered, the sandbox's limits, the search sources."""

    offered: tuple[str, ...]
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    sources: CollectionSources = field(default_factory=CollectionSources)
    collections: CollectionCache = field(default_factory=CollectionCache)


def run_call(call: ToolCall, kit: ToolKit, cancel: threading.Event | None = None,
             progress: Progress | None = None, approval: str = "asked") -> ToolOutcome:  # fmt: skip
    """The outcome of one call (`approval`: how the person let it run, for the record)."""
    if call.name not in kit.offered:
        return unknown_tool(call, kit.offered)
    if call.name == RUN_PYTHON:
        code = argument_text(call)
        if not code.strip():
            return failed_outcome(call, "The call had no code to run; give the whole "
                                        "program as `code`.")  # fmt: skip
        from desktop.engine.sandbox.run_code import run_code

        return python_outcome(call, run_code(code, kit.limits, cancel, progress=progress),
                              approval)  # fmt: skip
    if call.name == SEARCH:
        return search(call, kit, progress)
    return unknown_tool(call, kit.offered)


def search(call: ToolCall, kit: ToolKit, progress: Progress | None = None) -> ToolOutcome:
    query = argument_text(call).strip()
    if not query:
        return failed_outcome(call, "The search had no query; give one as `query`.")
    if progress is not None:
        progress("searching")
    collection = kit.collections.get(kit.sources)
    hits = collection.search(query)
    record = {
        "query": query,
        "summary": collection.summary,
        "problems": collection.problems[:5],
        "hits": [{"id": h.passage.id, "title": h.passage.title, "source": h.passage.source,
                  "text": h.passage.text, "score": round(h.score, 3)} for h in hits],
    }  # fmt: skip
    return ToolOutcome(call.id, call.name, "ran", search_result_text(query, hits), record)

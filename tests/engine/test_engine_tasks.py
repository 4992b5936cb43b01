"""Engine tasks: a quiz run or a model-written reply in the engine thread, reported by
signals, cancelled at the next token (or before it starts), failing without harm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Slot

from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.generation import ChatMessage, GenerationRequest, LoadSettings
from desktop.core.quiz.interrogation import quiz_request
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.settings import QuizSettings
from desktop.engine.engine_task import EngineTask, ReplyTask
from desktop.engine.quiz_task import InterrogationTask
from tests.conftest import EngineRecorder

WAIT = {"timeout": 20_000}
PAIRS = [QAPair("What year was the tower finished?", "1889"), QAPair("Who built it?", "Eiffel")]
ARTICLE = "The tower was finished in 1889 by the company of Gustave Eiffel."


class TaskRecorder(QObject):
    """Receives a task's signals in the GUI thread, as the Quiz tab does."""

    def __init__(self, task: EngineTask) -> None:
        super().__init__()
        self.answers: list[Any] = []
        self.ended: list[tuple[str, str]] = []
        self.replies: list[str] = []
        self.progress: list[int] = []
        task.ended.connect(self.on_ended)
        if isinstance(task, InterrogationTask):
            task.answered.connect(self.on_answer)
        if isinstance(task, ReplyTask):
            task.finished.connect(self.on_reply)
            task.tokens.connect(self.on_tokens)

    @Slot(object)
    def on_answer(self, answer: Any) -> None:
        self.answers.append(answer)

    @Slot(str, str)
    def on_ended(self, status: str, message: str) -> None:
        self.ended.append((status, message))

    @Slot(object)
    def on_reply(self, reply: Any) -> None:
        self.replies.append(reply.text)

    @Slot(object)
    def on_tokens(self, batch: Any) -> None:
        self.progress.append((self.progress[-1] if self.progress else 0) + len(batch))


def started(engine: Any, task: EngineTask) -> TaskRecorder:
    """The task's signals recorded, then the task handed to the engine."""
    got = TaskRecorder(task)
    engine.run_task(task)
    return got


def loaded(qtbot: Any, engine: Any, path: Path) -> EngineRecorder:
    record = EngineRecorder(engine)
    engine.load_requested.emit(str(path), LoadSettings(context_size=1024))
    qtbot.waitUntil(lambda: bool(record.loaded), **WAIT)
    return record


@pytest.mark.parametrize("kind", ["instruct", "base"])
def test_a_quiz_on_the_real_llama_cpp_runs_to_the_end(
    qtbot: Any, request: pytest.FixtureRequest, kind: str
) -> None:
    from desktop.engine.inference_engine import InferenceEngine

    model = request.getfixturevalue("tiny_gguf" if kind == "instruct" else "tiny_base_gguf")
    engine = InferenceEngine()
    engine.start()
    try:
        loaded(qtbot, engine, model)
        settings = QuizSettings(samples=2, max_tokens=8, open_book=True, asked_as=kind)
        task = InterrogationTask(PAIRS, ARTICLE, settings)
        got = started(engine, task)
        qtbot.waitUntil(lambda: bool(got.ended), **WAIT)
    finally:
        engine.shutdown()
    assert got.ended == [("done", "")]
    assert [a.key for a in got.answers] == [
        (q, mode, s) for mode in ("closed", "open") for q in range(2) for s in range(2)
    ]
    for answer in got.answers:  # a random tiny model: any grade, but a real probability
        assert answer.grade in {"CORRECT", "INCORRECT", "NOT_ATTEMPTED"}
        assert 0.0 <= answer.confidence <= 1.0
    assert any(a.confidence > 0 for a in got.answers)
    forms = {a.prompt.form for a in got.answers if a.prompt is not None}
    assert forms == ({"chat"} if kind == "instruct" else {"question list"})  # no stems here
    assert all("\n" not in a.text for a in got.answers)


def test_cancel_stops_at_the_next_token_and_the_engine_goes_on(
    qtbot: Any, make_engine: Any, tiny_gguf: Path
) -> None:
    engine = make_engine(replies=[" ".join(["word"] * 30)], token_delay=0.02)
    record = loaded(qtbot, engine, tiny_gguf)
    task = InterrogationTask(PAIRS, ARTICLE, QuizSettings(samples=3, max_tokens=64))
    got = started(engine, task)
    qtbot.waitUntil(lambda: bool(got.answers), **WAIT)
    task.cancel()
    qtbot.waitUntil(lambda: bool(got.ended), **WAIT)
    assert got.ended == [("stopped", "")] and len(got.answers) < 12
    record.generate(GenerationRequest(1, "still there?"))
    qtbot.waitUntil(lambda: bool(record.finished), **WAIT)
    assert record.finished[0].stop_reason != "cancelled"


def test_a_cancelled_queued_task_never_asks_and_spares_the_reply_before_it(
    qtbot: Any, make_engine: Any, tiny_gguf: Path
) -> None:
    engine = make_engine(replies=["a b c d e f g h"], token_delay=0.03)
    record = loaded(qtbot, engine, tiny_gguf)
    record.generate(GenerationRequest(1, "chat reply"))
    task = InterrogationTask(PAIRS, ARTICLE, QuizSettings(samples=1))
    got = started(engine, task)
    task.cancel()  # still queued behind the chat reply
    qtbot.waitUntil(lambda: bool(got.ended), **WAIT)
    assert got.ended == [("stopped", "")] and got.answers == []
    assert record.finished[0].stop_reason == "eos"  # the chat reply was not cut short


def test_a_crash_ends_the_task_with_a_message(
    qtbot: Any, make_engine: Any, tiny_gguf: Path
) -> None:
    engine = make_engine(replies=["one two three four"], crash_after_tokens=2)
    record = loaded(qtbot, engine, tiny_gguf)
    task = InterrogationTask(PAIRS, ARTICLE, QuizSettings(samples=1))
    got = started(engine, task)
    qtbot.waitUntil(lambda: bool(got.ended) and bool(record.crashed), **WAIT)
    status, message = got.ended[0]
    assert status == "failed" and "crashed" in message


@pytest.mark.parametrize("load", [False, True])
def test_one_reply_task(qtbot: Any, make_engine: Any, tiny_gguf: Path, load: bool) -> None:
    engine = make_engine(replies=["Q: Why? A: Because."])
    if load:
        loaded(qtbot, engine, tiny_gguf)
    request = quiz_request([ChatMessage("user", "write")], temperature=0.3, max_tokens=50, seed=0)
    task = ReplyTask(request)
    got = started(engine, task)
    qtbot.waitUntil(lambda: bool(got.ended), **WAIT)
    if load:
        assert got.ended == [("done", "")] and got.replies == ["Q: Why? A: Because."]
        assert got.progress[-1] == 4  # the scripted model's tokens are words
    else:
        assert got.ended[0][0] == "failed" and "No model is loaded" in got.ended[0][1]


def test_a_cancelled_task_leaves_no_stop_behind(
    qtbot: Any, make_engine: Any, tiny_gguf: Path
) -> None:
    """A stop for the task must not end (or hard-kill the host under) the next request."""
    engine = make_engine(replies=[" ".join(["word"] * 40)], token_delay=0.02)
    record = loaded(qtbot, engine, tiny_gguf)
    pid = engine.host_pid
    task = InterrogationTask(PAIRS, ARTICLE, QuizSettings(samples=2, max_tokens=64))
    got = started(engine, task)
    qtbot.waitUntil(lambda: bool(got.answers), **WAIT)
    task.cancel()
    qtbot.waitUntil(lambda: bool(got.ended), **WAIT)
    qtbot.wait(2500)  # past the hard-stop delay
    # a prompt count (a tokenize request in the host) after it is served, same host
    record.generate(ChatRequest((ChatMessage("user", "count me"),)), rid=7, preview=True)
    qtbot.waitUntil(lambda: bool(record.prompts) or bool(record.failed), **WAIT)
    assert record.prompts[0].prompt_tokens > 0 and not record.failed
    assert engine.host_pid == pid


def test_stop_request_stops_that_request_only(
    qtbot: Any, make_engine: Any, tiny_gguf: Path
) -> None:
    engine = make_engine(replies=["a b c d e f g h i j"], token_delay=0.03)
    record = loaded(qtbot, engine, tiny_gguf)
    record.generate(GenerationRequest(1, "first"))
    record.generate(GenerationRequest(2, "second"))
    task = InterrogationTask(PAIRS[:1], ARTICLE, QuizSettings(samples=1, open_book=False))
    got = started(engine, task)
    record.stop(2)  # still queued behind the first
    qtbot.waitUntil(lambda: len(record.finished) == 2 and bool(got.ended), **WAIT)
    assert [(s.request_id, s.stop_reason) for s in record.finished] == [
        (1, "eos"), (2, "cancelled")
    ]  # fmt: skip
    assert got.ended == [("done", "")] and len(got.answers) == 1  # the task after it ran

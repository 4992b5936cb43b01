"""The Qt engine: queued requests in, signals out, from its own thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.core.chat.generation import GenerationRequest, LoadSettings, SamplingSettings
from tests.conftest import EngineRecorder

LONG_REPLY = " ".join(f"w{i}" for i in range(40))
WAIT = {"timeout": 10_000}


def loaded_engine(qtbot: Any, make_engine: Any, path: Path, **script: Any) -> Any:
    engine = make_engine(**script)
    record = EngineRecorder(engine)
    engine.load_requested.emit(str(path), LoadSettings(context_size=512))
    qtbot.waitUntil(lambda: bool(record.loaded), **WAIT)
    return engine, record


def test_streams_over_signals_from_the_engine_thread(qtbot, make_engine, tiny_gguf) -> None:
    _engine, record = loaded_engine(qtbot, make_engine, tiny_gguf, replies=["one two three"])
    assert record.loaded[0].info.parameter_count > 0  # the preflight's header info rides along
    record.generate(GenerationRequest(1, "hi"))
    qtbot.waitUntil(lambda: bool(record.finished), **WAIT)
    assert "".join(event.text for _rid, event in record.tokens) == "one two three"
    assert record.finished[0].text == "one two three"


def test_requests_are_served_one_after_another(qtbot, make_engine, tiny_gguf) -> None:
    _engine, record = loaded_engine(
        qtbot, make_engine, tiny_gguf, replies=[LONG_REPLY, "second reply"], token_delay=0.002
    )
    record.generate(GenerationRequest(1, "a"))
    record.generate(GenerationRequest(2, "b"))
    qtbot.waitUntil(lambda: len(record.finished) == 2, **WAIT)
    assert [s.request_id for s in record.finished] == [1, 2]
    order = [rid for rid, _event in record.tokens]
    assert order == sorted(order)  # never interleaved
    assert order.count(1) == 40


def test_crash_signal_and_recovery(qtbot, make_engine, tiny_gguf) -> None:
    engine, record = loaded_engine(
        qtbot, make_engine, tiny_gguf, replies=[LONG_REPLY], crash_after_tokens=3, token_delay=0.06
    )
    record.generate(GenerationRequest(1, "a"))
    qtbot.waitUntil(lambda: bool(record.crashed), **WAIT)
    assert "crashed" in record.crashed[0]
    assert record.failed and record.failed[0][0] == 1
    assert len(record.tokens) == 3  # the partial reply arrived before the crash
    engine.load_requested.emit(str(tiny_gguf), LoadSettings())
    qtbot.waitUntil(lambda: len(record.loaded) == 2, **WAIT)


def test_broken_file_fails_load_with_a_message(qtbot, make_engine, broken_ggufs) -> None:
    engine = make_engine()
    record = EngineRecorder(engine)
    engine.load_requested.emit(str(broken_ggufs("mid_metadata")), LoadSettings())
    qtbot.waitUntil(lambda: bool(record.load_failed), **WAIT)
    assert "truncated" in record.load_failed[0].lower()


def test_stop_from_the_gui_thread(qtbot, make_engine, tiny_gguf) -> None:
    _engine, record = loaded_engine(
        qtbot, make_engine, tiny_gguf, replies=[LONG_REPLY], token_delay=0.02
    )
    record.generate(GenerationRequest(1, "a", sampling=SamplingSettings(max_tokens=100)))
    qtbot.waitUntil(lambda: len(record.tokens) >= 3, **WAIT)
    record.stop(1)
    qtbot.waitUntil(lambda: bool(record.finished), **WAIT)
    assert record.finished[0].stop_reason == "cancelled"
    assert record.finished[0].generated_tokens < 40


def test_requests_leave_a_core_to_a_training_run(qtbot, make_engine, tiny_gguf) -> None:
    """llama.cpp's threads wait for each other at every layer: on 2 cores with a training
    run taking one, 2 threads collapse (30 -> 1.1 tokens/s measured), so requests use one
    fewer while the Train tab trains, and the loaded count again afterwards."""
    engine = make_engine(replies=["a b c"])
    record = EngineRecorder(engine)
    other = [0.0]  # what other programs keep busy, as the engine's reading says
    engine._other_load.cores = lambda: other[0]
    assert engine.threads_now() == 0  # nothing loaded: nothing to say
    engine.load_requested.emit(str(tiny_gguf), LoadSettings(context_size=512, threads=2))
    qtbot.waitUntil(lambda: bool(record.loaded), **WAIT)
    assert engine.threads_now() == 2
    engine.training = True
    assert engine.threads_now() == 1
    task = record.generate(GenerationRequest(1, "hi"))
    qtbot.waitUntil(lambda: bool(record.finished), **WAIT)
    assert task.threads == 1  # what the request was given
    engine.training = False
    assert engine.threads_now() == 2
    other[0] = 1.0  # another program took a core
    assert engine.threads_now() == 1

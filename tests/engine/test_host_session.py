"""The model host through the Qt-free session: streaming, stop, crash, hard stop.

These run the real child process and pipe; the scripted backend stands in for llama.cpp
where a test needs exact timings or a crash on demand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.core.chat.generation import (
    GenerationRequest,
    GenerationStats,
    LoadSettings,
    SamplingSettings,
    TokenEvent,
)
from desktop.engine.host_session import ModelCrashed, SessionError
from desktop.engine.protocol import Finished
from desktop.engine.scripted_backend import pieces
from tests.gguf_fixtures import BROKEN_KINDS

LONG_REPLY = " ".join(f"word{i}" for i in range(200))


def request(rid: int = 1, **kw: object) -> GenerationRequest:
    return GenerationRequest(request_id=rid, prompt="User: hi\nAssistant:", **kw)  # type: ignore[arg-type]


def spy_host_finished(session: Any) -> list[GenerationStats]:
    """Record the stats the host itself sends, before the session shapes them."""
    seen: list[GenerationStats] = []
    poll = session._host.poll

    def spying_poll(timeout: float) -> object:
        event = poll(timeout)
        if isinstance(event, Finished):
            seen.append(event.stats)
        return event

    session._host.poll = spying_poll
    return seen


def test_streams_the_scripted_reply(scripted_session, tiny_gguf: Path) -> None:
    session = scripted_session(replies=["Hello there, student."], context_size=100_000)
    model = session.load(str(tiny_gguf), LoadSettings(context_size=128))
    assert model.context_size == 128
    # more than the model was trained for (4096): loaded with its trained context
    assert session.load(str(tiny_gguf), LoadSettings(context_size=8192)).context_size == 4096
    seen: list[TokenEvent] = []
    stats = session.generate(request(), seen.extend)
    assert "".join(e.text for e in seen) == "Hello there, student."
    assert stats.text == "Hello there, student."
    assert stats.generated_tokens == len(pieces("Hello there, student."))
    assert stats.stop_reason == "eos"


def test_stop_takes_effect_within_one_token(scripted_session, tiny_gguf: Path) -> None:
    session = scripted_session(replies=[LONG_REPLY], token_delay=0.01)
    session.load(str(tiny_gguf), LoadSettings())
    seen: list[TokenEvent] = []

    at_stop: list[int] = []

    def on_tokens(batch: Sequence[TokenEvent]) -> None:
        seen.extend(batch)
        if len(seen) >= 5 and not at_stop:
            at_stop.append(len(seen))
            session.stop()

    host_pid = session._host.pid
    host_finished = spy_host_finished(session)
    stats = session.generate(request(), on_tokens)
    assert stats.stop_reason == "cancelled"
    assert len(seen) == at_stop[0] < 10  # nothing arrived after Stop was pressed
    assert stats.text == "".join(e.text for e in seen)
    # ...and the host itself stopped (not just the session hiding the rest), by itself
    assert host_finished[0].generated_tokens < at_stop[0] + 10 < len(pieces(LONG_REPLY))
    assert session._host.pid == host_pid and not session._reload_needed


def test_stop_strings_cut_the_reply(scripted_session, tiny_gguf: Path) -> None:
    session = scripted_session(replies=["Paris is the capital.\nUser: and Rome?"])
    session.load(str(tiny_gguf), LoadSettings())
    stats = session.generate(request(stop=("\nUser:",)), lambda batch: None)
    assert stats.text == "Paris is the capital."
    assert stats.stop_reason == "stop"


def test_crash_is_reported_and_the_next_load_works(scripted_session, tiny_gguf: Path) -> None:
    # 60 ms per token: slower than the 50 ms batching, so every token is sent at once
    session = scripted_session(replies=[LONG_REPLY], crash_after_tokens=4, token_delay=0.06)
    session.load(str(tiny_gguf), LoadSettings())
    seen: list[TokenEvent] = []
    with pytest.raises(ModelCrashed, match="segmentation fault"):
        session.generate(request(), seen.extend)
    assert len(seen) == 4  # the partial reply reached the caller before the crash
    assert session.model is None
    session.load(str(tiny_gguf), LoadSettings())
    assert session.model is not None
    # the new host crashes again at token 4, but it really is a new, working host
    with pytest.raises(ModelCrashed):
        session.generate(request(2), lambda batch: None)


def test_hard_stop_kills_a_host_that_ignores_stop(scripted_session, tiny_gguf: Path) -> None:
    session = scripted_session(replies=["after the long prompt"], prompt_seconds=30)
    session.load(str(tiny_gguf), LoadSettings())
    first_pid = session.host_pid
    threading.Timer(0.3, session.stop).start()
    stats = session.generate(request(), lambda batch: None)
    assert stats.stop_reason == "cancelled"
    # killed (a host left to itself would have answered "cancelled" after its 30 s, alive);
    # the model comes back with the next request
    assert session.host_pid is None
    assert session.model is not None
    session.stop()  # pressing Stop again afterwards changes nothing
    ids, _pieces = session.tokenize(2, "still works")
    assert len(ids) == 2
    assert session.host_pid not in (None, first_pid)


def test_repeated_stops_do_not_postpone_the_hard_stop(scripted_session, tiny_gguf) -> None:
    session = scripted_session(replies=["x"], prompt_seconds=30)
    session.load(str(tiny_gguf), LoadSettings())
    presses: list[float] = []

    def press() -> None:
        session.stop()
        presses.append(session.stop_pressed_at)

    for delay in (0.2, 0.8, 1.4, 2.0):
        threading.Timer(delay, press).start()
    assert session.generate(request(), lambda batch: None).stop_reason == "cancelled"
    assert session.host_pid is None  # the hard stop came
    # it counts from the first press: later presses do not push it back
    assert presses and all(at == presses[0] for at in presses)


def test_a_host_that_died_while_idle_is_reported(scripted_session, tiny_gguf) -> None:
    import os
    import signal

    session = scripted_session(replies=["x"])
    session.load(str(tiny_gguf), LoadSettings())
    os.kill(session.host_pid, signal.SIGKILL)
    time.sleep(0.2)
    with pytest.raises(ModelCrashed, match="SIGKILL"):
        session.generate(request(), lambda batch: None)


def test_stuck_load_is_killed_and_the_next_load_works(scripted_session, tiny_gguf: Path) -> None:
    session = scripted_session(load_seconds=30, load_ignores_cancel=True)
    threading.Timer(0.3, session.stop).start()
    # the host sleeps 30 s through the cancel and would then finish loading: only the
    # hard stop ends it with "cancelled"
    with pytest.raises(SessionError, match="cancelled"):
        session.load(str(tiny_gguf), LoadSettings())
    assert session.host_pid is None


def test_cooperative_load_cancel(scripted_session, tiny_gguf: Path) -> None:
    session = scripted_session(load_seconds=1.5)
    threading.Timer(0.2, session.stop).start()
    with pytest.raises(SessionError, match="cancelled"):
        session.load(str(tiny_gguf), LoadSettings())
    pid = session.host_pid
    assert pid is not None  # the host stopped by itself: no kill was needed
    session.load(str(tiny_gguf), LoadSettings())  # not left cancelled
    assert session.host_pid == pid
    assert session.model is not None


def test_generate_without_a_model_is_a_clear_error(scripted_session) -> None:
    with pytest.raises(SessionError, match="No model is loaded"):
        scripted_session().generate(request(), lambda batch: None)


# ---- the real llama.cpp ------------------------------------------------------------
# One thread: ggml's worker threads spin at barriers, so on a 2-core machine shared with
# the test process a second thread can make a tiny model hundreds of times slower.


def test_llama_streams_and_reports_probabilities(llama_session, tiny_gguf: Path) -> None:
    llama_session.load(str(tiny_gguf), LoadSettings(context_size=256, threads=1))
    seen: list[TokenEvent] = []
    sampling = SamplingSettings(max_tokens=12, seed=7, temperature=0.8)
    stats = llama_session.generate(request(sampling=sampling, top_alternatives=3), seen.extend)
    assert stats.generated_tokens >= 1
    assert stats.text == "".join(e.text for e in seen)
    assert stats.prompt_tokens > 0
    with_text = [e for e in seen if e.text]
    assert with_text
    for event in with_text:
        assert 0.0 < event.prob <= 1.0
        assert len(event.alternatives) == 3
        probs = [a.prob for a in event.alternatives]
        assert probs == sorted(probs, reverse=True)
        assert event.prob <= probs[0] + 1e-9


def test_llama_same_seed_same_reply(llama_session, tiny_gguf: Path) -> None:
    llama_session.load(str(tiny_gguf), LoadSettings(context_size=256, threads=1))
    sampling = SamplingSettings(max_tokens=16, seed=42, temperature=1.0, min_p=0.0)
    a = llama_session.generate(request(sampling=sampling), lambda batch: None)
    b = llama_session.generate(request(2, sampling=sampling), lambda batch: None)
    assert a.text == b.text
    # and the seed really is used: other seeds give other replies
    others = {
        llama_session.generate(request(3 + seed, sampling=replace(sampling, seed=seed)),
                               lambda batch: None).text
        for seed in (1, 2, 3)
    }  # fmt: skip
    assert others - {a.text}


# A fixed-length run: the random model would otherwise end at a random end token.
ENDLESS = SamplingSettings(max_tokens=3000, temperature=1.0, min_p=0.0, top_k=0, top_p=1.0)


def test_llama_ignore_eos_gives_a_fixed_length(llama_session, tiny_gguf: Path) -> None:
    llama_session.load(str(tiny_gguf), LoadSettings(context_size=1024, threads=1))
    sampling = SamplingSettings(max_tokens=300, seed=1, temperature=1.0, min_p=0.0, top_k=0)
    stats = llama_session.generate(request(sampling=sampling, ignore_eos=True), lambda batch: None)
    assert stats.generated_tokens == 300 and stats.stop_reason == "length"


def test_llama_stop_within_one_token(llama_session, tiny_gguf: Path) -> None:
    llama_session.load(str(tiny_gguf), LoadSettings(context_size=4096, threads=1))
    seen: list[TokenEvent] = []

    def on_tokens(batch: Sequence[TokenEvent]) -> None:
        seen.extend(batch)
        llama_session.stop()  # at the very first batch

    host_finished = spy_host_finished(llama_session)
    stats = llama_session.generate(request(sampling=ENDLESS, ignore_eos=True), on_tokens)
    assert stats.stop_reason == "cancelled"
    assert 1 <= len(seen) == stats.generated_tokens < ENDLESS.max_tokens
    # llama.cpp itself stopped, at the flag (not at max_tokens); how many tokens it made
    # before the flag reached it depends on the machine's speed, so it is not asserted
    assert host_finished[0].stop_reason == "cancelled"
    assert host_finished[0].generated_tokens < ENDLESS.max_tokens
    assert not llama_session._reload_needed  # by itself, not by a hard kill
    assert stats.text == "".join(e.text for e in seen)


def test_llama_killed_host_gives_model_crashed(llama_session, tiny_gguf: Path) -> None:
    import os
    import signal

    llama_session.load(str(tiny_gguf), LoadSettings(context_size=4096, threads=1))
    killed: list[int] = []

    def on_tokens(batch: Sequence[TokenEvent]) -> None:
        if not killed and llama_session.host_pid:
            killed.append(llama_session.host_pid)
            os.kill(llama_session.host_pid, signal.SIGKILL)

    with pytest.raises(ModelCrashed, match="SIGKILL"):
        llama_session.generate(request(sampling=ENDLESS, ignore_eos=True), on_tokens)
    assert llama_session.model is None
    llama_session.load(str(tiny_gguf), LoadSettings(context_size=256, threads=1))
    assert llama_session.host_pid != killed[0]
    stats = llama_session.generate(
        request(2, sampling=SamplingSettings(max_tokens=4), ignore_eos=True), lambda batch: None
    )
    assert stats.generated_tokens == 4


def test_llama_tokenize_round_trips(llama_session, tiny_gguf: Path) -> None:
    llama_session.load(str(tiny_gguf), LoadSettings(context_size=256, threads=1))
    text = "Hello world, héllo 🙂!"
    ids, pieces_ = llama_session.tokenize(1, text, parse_special=False)
    assert len(ids) == len(pieces_) > 0
    assert b"".join(pieces_).decode("utf-8") == text


@pytest.mark.parametrize("variant", BROKEN_KINDS)
def test_broken_files_are_refused_clearly(llama_session, broken_ggufs, variant: str) -> None:
    path = broken_ggufs(variant)
    with pytest.raises(SessionError) as info:
        llama_session.load(str(path), LoadSettings(context_size=256))
    message = str(info.value)
    assert "Traceback" not in message
    assert len(message) < 400
    assert f"broken-{variant}.gguf " in message  # names the file
    assert any(cause in message for cause in ("is truncated", "is empty", "is not a GGUF"))
    assert "Download it again" in message or "Pick a .gguf model file" in message
    assert llama_session.model is None


def test_a_crash_while_loading_is_a_sentence_and_the_next_load_works(
    scripted_session, tiny_gguf: Path, tmp_path: Path
) -> None:
    """The file passes the check, then llama.cpp dies while loading it."""
    import shutil

    crashing = tmp_path / "crashes-llama.gguf"
    shutil.copy(tiny_gguf, crashing)
    session = scripted_session(crash_on_load_if_path_contains="crashes-llama")
    with pytest.raises(SessionError) as caught:
        session.load(str(crashing), LoadSettings())
    message = str(caught.value)
    assert "llama.cpp crashed while loading this file" in message  # the cause
    assert "segmentation fault" in message and "the app is fine" in message
    assert "another quantization" in message and "Download it again" in message  # remedies
    assert session.model is None
    session.load(str(tiny_gguf), LoadSettings())  # a fresh host takes the next file
    assert session.model is not None


def test_a_load_the_backend_refuses_after_the_check_passed_is_said(
    scripted_session, tiny_gguf: Path
) -> None:
    session = scripted_session(fail_load_if_path_contains="tiny")
    with pytest.raises(SessionError) as caught:
        session.load(str(tiny_gguf), LoadSettings())
    assert str(caught.value) == f"Scripted load failure for {tiny_gguf.name}."
    assert session.host_pid is not None  # an orderly failure: the host lives on

"""A model on an OpenAI-compatible server, through the real model host and HostSession,
against a fake server on 127.0.0.1: its key from the keyring, what is sent where, tokens
with probabilities, a sentence for each failure, and a cut reply kept."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.generation import ChatMessage, LoadSettings
from desktop.core.remote import keys
from desktop.core.remote.endpoint import remote_model
from desktop.engine.chat_turn import ask
from desktop.engine.host_session import SessionError
from tests.fake_openai import Fault

QUESTION = (ChatMessage("system", "Be brief."), ChatMessage("user", "hi"))


def load(session: Any, fake: Any, model: str = "fake-model", warnings: list[str] | None = None):
    path = remote_model(fake.base_url, model).path
    return session.load(path, LoadSettings(context_size=2048),
                        on_warning=(warnings if warnings is not None else []).append)  # fmt: skip


def test_a_remote_chat_model_streams_tokens_with_their_probabilities(
    scripted_session, fake_openai, memory_keyring
) -> None:
    fake = fake_openai(key="sk-good", context_length=8192)
    keys.save_key(fake.base_url, "sk-good")
    session, warnings = scripted_session(), []
    model = load(session, fake, warnings=warnings)
    assert model.endpoint == fake.base_url and model.context_size == 8192  # as the server says
    assert "sent to a server on this computer" in warnings[0]  # said before any request
    seen: list[Any] = []
    reply = ask(session, ChatRequest(QUESTION, top_alternatives=2), seen.extend)
    assert reply.text == "Hello, world." and [e.text for e in seen] == list(fake.tokens)
    assert [round(e.prob, 3) for e in reply.events] == [0.9, 0.5, 0.9, 0.5]
    assert reply.events[0].alternatives[1].text == " other"
    body = fake.bodies("/chat/completions")[-1]  # the messages themselves, not our template
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "hi"}]  # fmt: skip
    assert body["logprobs"] is True and body["top_logprobs"] == 2 and body["stream"] is True
    assert fake.requests[-1].headers["Authorization"] == "Bearer sk-good"
    assert reply.stats.prompt_tokens == 42  # the server's own count (its usage)
    assert reply.prompt is not None and "applies its own chat template" in reply.prompt.plan.note


def test_base_and_raw_modes_send_the_apps_own_text_to_completions(
    scripted_session, fake_openai, memory_keyring
) -> None:
    fake = fake_openai()
    session = scripted_session()
    load(session, fake)
    reply = ask(session, ChatRequest(QUESTION, mode="base", top_alternatives=1))
    body = fake.bodies("/v1/completions")[-1]
    assert "User: hi\nAssistant:" in body["prompt"] and "\nUser:" in body["stop"]
    assert body["logprobs"] == 1 and reply.text == "Hello, world."
    assert reply.events[1].prob == pytest.approx(0.5)


def test_a_refused_key_and_an_unknown_model_are_said_at_load(
    scripted_session, fake_openai, memory_keyring
) -> None:
    fake = fake_openai(key="sk-good")
    keys.save_key(fake.base_url, "sk-wrong")
    with pytest.raises(SessionError, match=r"refused the API key \(401\).*Invalid API key"):
        load(scripted_session(), fake)
    keys.save_key(fake.base_url, "sk-good")
    with pytest.raises(SessionError, match="does not list the model “nope”; it has fake-model"):
        load(scripted_session(), fake, "nope")


def test_a_server_that_is_not_running_is_said(scripted_session, memory_keyring) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = type("Nowhere", (), {"base_url": f"http://127.0.0.1:{port}/v1"})()
    with pytest.raises(SessionError, match=f"Nothing answered at 127.0.0.1:{port}"):
        load(scripted_session(), fake)


@pytest.mark.parametrize(("fault", "words"), [
    (Fault(status=429, headers={"Retry-After": "7"}),
     r"limiting requests \(429\): try again in 7 seconds"),
    (Fault(status=500), r"had an internal error \(500\)"),
    (Fault(status=503), r"is unavailable \(503\)"),
])  # fmt: skip
def test_errors_during_a_reply_have_their_sentences(
    scripted_session, fake_openai, memory_keyring, fault, words
) -> None:
    fake = fake_openai()
    session = scripted_session()
    load(session, fake)
    fake.fault = fault
    with pytest.raises(SessionError, match=words):
        ask(session, ChatRequest(QUESTION))
    fake.fault = Fault()  # the model is still loaded: the next request goes through
    assert ask(session, ChatRequest(QUESTION)).text == "Hello, world."


@pytest.mark.parametrize(("fault", "words", "kept"), [
    (Fault(cut_after=2), "was cut after 2 tokens", "Hello,"),
    (Fault(error_after=3), "reported an error after 3 tokens: “the model worker died”",
     "Hello, world"),
])  # fmt: skip
def test_a_reply_cut_midway_keeps_what_came(
    scripted_session, fake_openai, memory_keyring, fault, words, kept
) -> None:
    fake = fake_openai()
    session = scripted_session()
    load(session, fake)
    fake.fault = fault
    seen: list[Any] = []
    with pytest.raises(SessionError, match=words) as caught:
        ask(session, ChatRequest(QUESTION), seen.extend)
    assert caught.value.partial == kept  # for the caller to keep
    assert "".join(e.text for e in seen) == kept  # every token reached the screen too
    assert "what came so far is kept" in str(caught.value)


def test_a_server_that_refuses_logprobs_is_asked_again_without(
    scripted_session, fake_openai, memory_keyring
) -> None:
    fake = fake_openai()
    session = scripted_session()
    load(session, fake)
    fake.fault = Fault(refuse_field="logprobs")
    reply = ask(session, ChatRequest(QUESTION, top_alternatives=3))
    assert reply.text == "Hello, world." and all(not e.alternatives for e in reply.events)
    asked = fake.bodies("/chat/completions")
    assert "logprobs" in asked[-2] and "logprobs" not in asked[-1]


def test_stop_closes_the_connection(scripted_session, fake_openai, memory_keyring) -> None:
    fake = fake_openai(tokens=tuple(f" w{i}" for i in range(400)), token_delay=0.01)
    session = scripted_session()
    load(session, fake)
    cancelled = threading.Event()

    def on_tokens(_batch: Any) -> None:
        cancelled.set()  # Stop, once the first tokens are on screen

    request = ChatRequest(QUESTION)
    from desktop.core.chat.chat_request import RequestCancelled

    with pytest.raises(RequestCancelled):
        ask(session, request, on_tokens, cancelled)
    assert fake.client_left.wait(10)  # the server saw its client go: it can stop generating
    assert fake.tokens_sent < 400


def test_back_to_a_local_model_after_a_remote_one(
    scripted_session, fake_openai, memory_keyring, tiny_gguf
) -> None:
    fake = fake_openai()
    session = scripted_session(replies=["local reply"])
    load(session, fake)
    remote_pid = session.host_pid
    model = session.load(str(tiny_gguf), LoadSettings())
    assert model.endpoint == "" and session.host_pid != remote_pid  # a host of its own
    assert ask(session, ChatRequest(QUESTION)).text == "local reply"


def test_a_model_picker_lists_a_servers_models_with_the_saved_key(
    fake_openai, memory_keyring
) -> None:
    from desktop.core.remote.client import list_models
    from desktop.core.remote.errors import RemoteError

    fake = fake_openai(key="sk-good", models=("b-model", "a-model"), context_length=4096)
    with pytest.raises(RemoteError, match=r"refused the API key \(401\)") as caught:
        list_models(fake.base_url)
    assert caught.value.kind == "key"
    keys.save_key(fake.base_url, "sk-good")
    listed = list_models(fake.base_url.removesuffix("/v1"))  # a bare address works too
    assert [(m.id, m.context_length) for m in listed] == [("a-model", 4096), ("b-model", 4096)]


def test_the_engine_says_what_is_sent_before_it_loads_a_remote_model(
    make_engine, qtbot, fake_openai, memory_keyring
) -> None:
    from PySide6.QtCore import QObject, Slot

    from tests.conftest import EngineRecorder

    fake = fake_openai()
    engine = make_engine()
    recorder = EngineRecorder(engine)
    heard: list[str] = []

    class Listener(QObject):
        @Slot(str)
        def warning(self, text: str) -> None:
            heard.append(f"warning: {text}")

        @Slot(object)
        def loaded(self, _model: object) -> None:
            heard.append("loaded")

    listener = Listener()
    engine.load_warning.connect(listener.warning)
    engine.model_loaded.connect(listener.loaded)
    engine.load_requested.emit(remote_model(fake.base_url, "fake-model").path, LoadSettings())
    qtbot.waitUntil(lambda: "loaded" in heard, timeout=20_000)
    assert heard[0].startswith("warning: Your messages and settings are sent to a server")
    assert fake.requests[0].path == "/v1/models"  # the list first: no message before it
    recorder.generate(ChatRequest(QUESTION), 1)
    qtbot.waitUntil(lambda: bool(recorder.replies), timeout=20_000)
    assert recorder.replies[0].text == "Hello, world."  # a ReplyTask like any other

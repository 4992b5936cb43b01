"""The API server with the official `openai` client, through the real model host (the
scripted backend: exact replies, probabilities and delays): streaming and whole chat
completions, logprobs, /v1/completions, tools, two clients at once, a client that leaves
mid-stream, the key, and the app's engine as the runner."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from desktop.core.chat.chat_request import ChatRequest, RequestCancelled
from desktop.core.chat.generation import ChatMessage, LoadSettings
from desktop.core.remote.endpoint import remote_model
from desktop.engine.api_server import ApiServer, ServerError, SessionRunner
from desktop.engine.chat_turn import ask
from desktop.engine.host_session import HostSession
from desktop.engine.scripted_backend import BACKEND_NAME, pieces

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# A template that writes the tools it is given, as Qwen's and Hermes' do (in short).
TOOLS_TEMPLATE = (
    "{% if tools %}<tools>{% for t in tools %}{{ t.function.name }} {% endfor %}</tools>{% endif %}"
    + CHATML
)
REPLY = "The quick brown fox jumps over the lazy dog."
USER = [{"role": "user", "content": "hi"}]
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'
CITY = {"type": "object", "properties": {"city": {"type": "string"}}}
WEATHER = {"name": "get_weather", "description": "Weather now", "parameters": CITY}
TOOLS = [{"type": "function", "function": WEATHER}]


def scripted_prob(n: int) -> float:
    return 1.0 / (1 + n % 4)  # what the scripted backend gives its n-th token


class RecordingSession(HostSession):
    """Records when each generation starts and how it ended."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[tuple[str, Any]] = []

    def generate(self, request: Any, on_tokens: Any, cancelled: Any = None) -> Any:
        self.log.append(("start", request.prompt))
        stats = super().generate(request, on_tokens, cancelled)
        self.log.append(("end", stats))
        return stats

    def ended(self) -> list[Any]:
        return [stats for kind, stats in self.log if kind == "end"]


@pytest.fixture
def serve(tiny_gguf) -> Iterator[Any]:
    """serve(api_key="", **script) -> (openai client, server, session)."""
    made: list[tuple[ApiServer, SessionRunner, HostSession]] = []

    def make(api_key: str = "", **script: Any) -> tuple[openai.OpenAI, ApiServer, Any]:
        script.setdefault("chat_template", CHATML)
        script.setdefault("replies", [REPLY])
        session = RecordingSession(BACKEND_NAME, script)
        runner = SessionRunner(session)
        runner.submit(
            lambda s, _t: s.load(str(tiny_gguf), LoadSettings(context_size=2048))
        ).result()
        server = ApiServer(runner, port=0, api_key=api_key)
        server.start()
        made.append((server, runner, session))
        client = openai.OpenAI(base_url=server.url, api_key=api_key or "none", max_retries=0)
        return client, server, session

    yield make
    for server, runner, session in made:
        server.stop()
        runner.close()
        session.close()


def test_models_and_a_whole_chat_completion(serve, tiny_gguf) -> None:
    client, _server, _session = serve()
    assert [m.id for m in client.models.list()] == [tiny_gguf.stem]
    answer = client.chat.completions.create(model=tiny_gguf.stem, messages=USER)
    assert answer.id.startswith("chatcmpl-") and answer.model == tiny_gguf.stem
    assert answer.object == "chat.completion" and answer.created > 0
    choice = answer.choices[0]
    assert choice.message.content == REPLY and choice.finish_reason == "stop"
    assert answer.usage.completion_tokens == len(pieces(REPLY))
    prompt = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"  # as rendered
    assert answer.usage.prompt_tokens == 1 + len(pieces(prompt))  # BOS + the words


def test_a_streamed_chat_completion_with_logprobs(serve) -> None:
    client, _server, _session = serve()
    chunks = list(client.chat.completions.create(
        model="any", messages=USER, stream=True, logprobs=True, top_logprobs=2,
        stream_options={"include_usage": True}))  # fmt: skip
    assert chunks[0].choices[0].delta.role == "assistant"
    tokens = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(c.choices[0].delta.content for c in tokens) == REPLY
    for n, chunk in enumerate(tokens):
        entry = chunk.choices[0].logprobs.content[0]
        assert entry.token == chunk.choices[0].delta.content
        assert entry.logprob == pytest.approx(math.log(scripted_prob(n)))
        assert len(entry.top_logprobs) == 2 and entry.top_logprobs[1].token == " maybe"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens == len(tokens) and not chunks[-1].choices


def test_completions_with_legacy_logprobs_and_max_tokens(serve) -> None:
    client, _server, _session = serve()
    whole = client.completions.create(model="any", prompt="Once upon", logprobs=2, max_tokens=3)
    choice = whole.choices[0]
    assert choice.text == "".join(pieces(REPLY)[:3]) and choice.finish_reason == "length"
    assert choice.logprobs.tokens == pieces(REPLY)[:3]
    assert choice.logprobs.token_logprobs[1] == pytest.approx(math.log(0.5))
    assert choice.logprobs.text_offset == [0, 3, 9]
    streamed = client.completions.create(model="any", prompt="Once upon", stream=True)
    assert "".join(c.choices[0].text for c in streamed if c.choices) == REPLY


def test_tools_reach_the_template_and_calls_come_back(serve) -> None:
    client, _server, session = serve(chat_template=TOOLS_TEMPLATE, replies=["no tools seen"],
                                     replies_by_prompt=[("<tools>get_weather", CALL)])  # fmt: skip
    answer = client.chat.completions.create(model="any", messages=USER, tools=TOOLS)
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and not choice.message.content
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {
        "city": "Oslo"}  # fmt: skip
    assert "<tools>get_weather </tools>" in session.log[-2][1]  # the prompt the model read
    chunks = list(client.chat.completions.create(model="any", messages=USER, tools=TOOLS,
                                                 stream=True))  # fmt: skip
    assert not any("<tool_call>" in (c.choices[0].delta.content or "") for c in chunks)
    streamed = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    assert streamed[0][0].function.name == "get_weather"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    # a tool's result goes back through the template too; tool_choice "none" drops the tools
    history = [*USER, {"role": "assistant", "content": None, "tool_calls": [{"id": call.id,
               "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
               {"role": "tool", "tool_call_id": call.id, "content": "cold"}]  # fmt: skip
    plain = client.chat.completions.create(model="any", messages=history, tools=TOOLS,
                                           tool_choice="none")  # fmt: skip
    assert plain.choices[0].message.content == "no tools seen"
    assert "<|im_start|>tool\ncold" in session.log[-2][1]


def test_two_clients_at_once_are_served_one_after_the_other(serve) -> None:
    client, _server, session = serve(token_delay=0.01, replies_by_prompt=[
        ("alpha", " ".join(f"a{i}" for i in range(20))),
        ("beta", " ".join(f"b{i}" for i in range(20)))])  # fmt: skip
    replies: dict[str, str] = {}

    def ask_for(word: str) -> None:
        stream = client.chat.completions.create(
            model="any", messages=[{"role": "user", "content": word}], stream=True)  # fmt: skip
        replies[word] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    threads = [threading.Thread(target=ask_for, args=(w,)) for w in ("alpha", "beta")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert replies["alpha"] == " ".join(f"a{i}" for i in range(20))
    assert replies["beta"] == " ".join(f"b{i}" for i in range(20))
    assert [kind for kind, _ in session.log] == ["start", "end", "start", "end"]  # queued


def wait_for(condition: Any, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_client_that_leaves_mid_stream_stops_its_generation(serve) -> None:
    long_reply = " ".join(f"w{i}" for i in range(500))
    client, _server, session = serve(token_delay=0.01, replies=[long_reply])
    stream = client.chat.completions.create(model="any", messages=USER, stream=True)
    for n, _chunk in enumerate(stream):
        if n == 3:
            break
    stream.close()  # the client hangs up
    assert wait_for(lambda: session.ended())
    stats = session.ended()[0]
    assert stats.stop_reason == "cancelled" and stats.generated_tokens < 500
    again = client.chat.completions.create(model="any", messages=USER, max_tokens=2)
    assert again.choices[0].message.content == "w0 w1"  # the model is free again


def test_the_key_is_required_when_set(serve) -> None:
    client, server, _session = serve(api_key="s3cret")
    assert client.chat.completions.create(model="any", messages=USER).choices[0].message.content
    intruder = openai.OpenAI(base_url=server.url, api_key="guess", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="API key is missing or wrong"):
        intruder.models.list()
    with pytest.raises(openai.AuthenticationError):
        intruder.chat.completions.create(model="any", messages=USER)


def test_refusals_say_why(serve) -> None:
    client, _server, session = serve(context_size=64)
    with pytest.raises(openai.BadRequestError, match="context is 64 tokens"):
        client.chat.completions.create(model="any", messages=[
            {"role": "user", "content": "word " * 100}])  # fmt: skip
    with pytest.raises(openai.BadRequestError, match="one choice"):
        client.chat.completions.create(model="any", messages=USER, n=2)
    with pytest.raises(openai.NotFoundError, match="There is no POST /v1/embeddings"):
        client.embeddings.create(model="any", input="x")
    session.unload()
    with pytest.raises(openai.InternalServerError, match="No model is loaded"):
        client.chat.completions.create(model="any", messages=USER)


def test_other_computers_only_when_allowed() -> None:
    runner: Any = object()
    with pytest.raises(ServerError, match="this computer only"):
        ApiServer(runner, host="0.0.0.0")
    assert ApiServer(runner, host="0.0.0.0", allow_network=True).host == "0.0.0.0"


def test_a_remote_model_on_our_own_server(serve, scripted_session, memory_keyring) -> None:
    """The remote client meets the server: probabilities survive the round trip, and a
    Stop on the remote side stops the generation on the serving side."""
    _client, server, served = serve(token_delay=0.01,
                                    replies=[REPLY, " ".join(["x"] * 500)])  # fmt: skip
    model_id = openai.OpenAI(base_url=server.url, api_key="n").models.list().data[0].id
    remote = scripted_session()
    remote.load(remote_model(server.url, model_id).path, LoadSettings())
    request = ChatRequest((ChatMessage("user", "hi"),), top_alternatives=2)
    reply = ask(remote, request)
    assert reply.text == REPLY
    assert [round(e.prob, 4) for e in reply.events] == [
        round(scripted_prob(n), 4) for n in range(len(pieces(REPLY)))]  # fmt: skip
    stop = threading.Event()
    with pytest.raises(RequestCancelled):
        ask(remote, request, lambda _batch: stop.set(), stop)
    assert wait_for(lambda: len(served.ended()) == 2)
    assert served.ended()[1].stop_reason == "cancelled"


def test_the_app_engine_serves_through_its_own_thread(make_engine, qtbot, tiny_gguf) -> None:
    engine = make_engine(chat_template=CHATML, replies=[REPLY])
    engine.load_requested.emit(str(tiny_gguf), LoadSettings())
    qtbot.waitUntil(lambda: engine.loaded_model is not None, timeout=20_000)
    server = ApiServer(engine, port=0)
    server.start()
    try:
        client = openai.OpenAI(base_url=server.url, api_key="n", max_retries=0)
        answer = client.chat.completions.create(model="any", messages=USER)
        assert answer.choices[0].message.content == REPLY
    finally:
        server.stop()

"""The remote client's Qt-free pieces: where a model is and what is said about it, keys in
the keyring, a sentence per failure, and servers' streamed events read as TokenEvents."""

from __future__ import annotations

import email.utils
import math

import pytest

from desktop.core.chat.generation import ChatMessage, GenerationRequest, SamplingSettings
from desktop.core.remote import keys
from desktop.core.remote.chunks import ChunkReader, chat_body, completion_body
from desktop.core.remote.endpoint import (
    EndpointError,
    normalise_base_url,
    parse_remote,
    remote_model,
    what_is_sent,
)
from desktop.core.remote.errors import http_error, retry_after_seconds


def test_a_remote_model_travels_as_a_path_and_back() -> None:
    model = remote_model("https://api.together.xyz/", "meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert (
        model.path == "remote:https://api.together.xyz/v1#meta-llama/Llama-3.3-70B-Instruct-Turbo"
    )
    assert parse_remote(model.path) == model
    assert normalise_base_url("localhost:11434") == "http://localhost:11434/v1"
    assert (
        normalise_base_url("http://127.0.0.1:8080/v1/chat/completions")
        == "http://127.0.0.1:8080/v1"
    )
    with pytest.raises(EndpointError, match="not a remote model"):
        parse_remote("/models/x.gguf")
    with pytest.raises(EndpointError, match="Pick a model"):
        remote_model("https://openrouter.ai/api/v1", " ")


def test_what_leaves_the_machine_is_said_plainly() -> None:
    internet = what_is_sent("https://api.together.xyz/v1")
    assert "sent to https://api.together.xyz" in internet and "API key" in internet
    assert "the conversation so far" in internet and "unencrypted" not in internet
    local = what_is_sent("http://127.0.0.1:11434/v1")
    assert "on this computer" in local and "nothing leaves this computer" in local
    lan = what_is_sent("http://192.168.1.20:1234/v1")
    assert "local network" in lan and "unencrypted (http" in lan


def test_keys_are_kept_per_server_in_the_keyring(memory_keyring) -> None:
    assert keys.save_key("https://api.together.xyz", "sk-1") == ""
    keys.save_key("https://openrouter.ai/api/v1/", "sk-2")
    # the same server however its address is written
    assert keys.load_key("https://api.together.xyz/v1/") == "sk-1"
    assert keys.load_key("https://openrouter.ai/api/v1") == "sk-2"
    assert (keys.SERVICE, "https://api.together.xyz/v1") in memory_keyring.store
    keys.forget_key("https://api.together.xyz/v1")
    assert keys.load_key("https://api.together.xyz/v1") == ""
    keys.forget_key("https://api.together.xyz/v1")  # forgetting twice is fine


def test_without_a_keyring_the_key_lasts_the_session_and_that_is_said() -> None:
    import keyring
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        note = keys.save_key("https://api.together.xyz/v1", "sk-3")
        assert "no system keyring" in note and "until the app closes" in note
        assert keys.load_key("https://api.together.xyz/v1") == "sk-3"
    finally:
        keys.forget_key("https://api.together.xyz/v1")
        keyring.set_keyring(before)
    assert keys.load_key("https://api.together.xyz/v1") == ""


def test_each_failure_has_its_sentence() -> None:
    url = "https://api.together.xyz/v1/chat/completions"
    refused = http_error(401, {}, b'{"error": {"message": "Invalid API key"}}', url)
    assert refused.kind == "key" and "refused the API key (401)" in str(refused)
    assert "Invalid API key" in str(refused)
    unknown = http_error(404, {}, b'{"error": {"message": "model x not found"}}', url, "x")
    assert unknown.kind == "model" and "does not know the model “x”" in str(unknown)
    limited = http_error(429, {"Retry-After": "20"}, b"", url)
    assert limited.kind == "rate" and limited.retry_after == 20
    assert "try again in 20 seconds" in str(limited)
    down = http_error(503, {}, b"<html>Bad gateway</html>", url)
    assert down.kind == "server" and "is unavailable (503)" in str(down)
    wrong_path = http_error(404, {}, b"Not Found", "http://127.0.0.1:9/models")
    assert "check the base URL" in str(wrong_path)


def test_retry_after_may_be_a_date() -> None:
    date = email.utils.formatdate(1000.0 + 90, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=1000.0) == pytest.approx(90)
    assert retry_after_seconds({}) is None


def test_streamed_chat_events_become_tokens_with_their_probabilities() -> None:
    reader = ChunkReader()
    events = reader.read({"choices": [{"index": 0, "delta": {"content": "Hi there"},
        "logprobs": {"content": [
            {"token": "Hi", "logprob": math.log(0.8),
             "top_logprobs": [{"token": "Hi", "logprob": math.log(0.8)},
                              {"token": "Hello", "logprob": math.log(0.1)}]},
            {"token": " there", "logprob": math.log(0.5), "top_logprobs": []}]}}]})  # fmt: skip
    assert [e.text for e in events] == ["Hi", " there"]
    assert events[0].prob == pytest.approx(0.8)
    assert [(a.text, round(a.prob, 3)) for a in events[0].alternatives] == [
        ("Hi", 0.8),
        ("Hello", 0.1),
    ]
    reader.read({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    reader.read({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}})
    assert reader.stop_reason == "length" and reader.prompt_tokens == 7


def test_reasoning_streamed_apart_is_shown_as_thinking() -> None:
    reader = ChunkReader()
    texts = [e.text for chunk in ({"reasoning_content": "Let me see."}, {"content": "42"})
             for e in reader.read({"choices": [{"index": 0, "delta": chunk}]})]  # fmt: skip
    assert "".join(texts) == "<think>Let me see.</think>42"


def test_request_bodies_carry_messages_or_text_and_ask_for_logprobs() -> None:
    request = GenerationRequest(1, "ignored", SamplingSettings(max_tokens=9, seed=3),
                                stop=tuple("abcde"), top_alternatives=30,
                                messages=(ChatMessage("user", "hi"),))  # fmt: skip
    body = chat_body("m", request)
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["top_logprobs"] == 20 and body["logprobs"] is True  # the API's maximum
    assert body["stop"] == ["a", "b", "c", "d"] and body["seed"] == 3 and body["max_tokens"] == 9
    assert "top_k" not in body  # not a standard field: OpenAI itself refuses it
    text = completion_body("m", GenerationRequest(2, "Once upon", top_alternatives=3))
    assert text["prompt"] == "Once upon" and text["logprobs"] == 3 and "messages" not in text

"""The servers a person added, as the settings keep them: picked models offered to the
pickers only once the what-is-sent sentence was accepted, never a key, and a hand-edited
settings file never a crash."""

from __future__ import annotations

import json

from desktop.core.remote.endpoint import remote_model
from desktop.core.remote.servers import (
    SavedServer,
    ServerList,
    default_name,
    display_name,
    servers_from_json,
    servers_to_json,
)


def test_servers_round_trip_through_the_settings_text() -> None:
    servers = ServerList()
    servers.put(SavedServer("together.ai", "https://api.together.xyz/v1", ("m/a", "m/b"), True))
    servers.put(SavedServer("mine", "http://127.0.0.1:8080/v1"))
    text = servers_to_json(servers)
    assert "key" not in text.lower()  # the key lives in the keyring only
    again = servers_from_json(text)
    assert again == servers
    assert [m.path for m in again.remote_models()] == [
        "remote:https://api.together.xyz/v1#m/a",
        "remote:https://api.together.xyz/v1#m/b",
    ]  # not the unacknowledged server's models (it has none anyway)


def test_picking_and_unpicking_models_and_replacing_a_server_in_place() -> None:
    server = SavedServer("x", "http://127.0.0.1:1/v1", acknowledged=True)
    server = server.with_model("a").with_model("b").with_model("a")
    assert server.models == ("a", "b")
    assert server.without_model("a").models == ("b",)
    servers = ServerList([server, SavedServer("y", "http://127.0.0.1:2/v1", ("c",), True)])
    servers.put(SavedServer("renamed", "http://127.0.0.1:1/v1", ("z",), True))
    assert [s.name for s in servers.servers] == ["renamed", "y"]
    assert servers.find("127.0.0.1:2") is servers.servers[1]  # found by any spelling
    servers.remove("http://127.0.0.1:2/v1")
    assert [m.model for m in servers.remote_models()] == ["z"]
    unread = ServerList([SavedServer("n", "http://127.0.0.1:3/v1", ("m",), acknowledged=False)])
    assert unread.remote_models() == []  # not offered before the sentence was accepted


def test_a_hand_edited_settings_value_keeps_what_it_can() -> None:
    text = json.dumps([
        {"base_url": "not a url at all ://"},
        {"name": 5, "base_url": "localhost:11434", "models": ["llama3", 7, ""],
         "acknowledged": "yes"},
        "junk",
    ])  # fmt: skip
    (server,) = servers_from_json(text).servers
    assert server.base_url == "http://localhost:11434/v1" and server.models == ("llama3",)
    assert server.name == "5" and server.acknowledged is False
    assert servers_from_json("{not json").servers == []
    assert servers_from_json('{"a": 1}').servers == []


def test_names_shown_for_models_and_servers() -> None:
    path = remote_model("https://api.together.xyz", "meta-llama/Llama-3-8B").path
    assert display_name(path) == "meta-llama/Llama-3-8B at api.together.xyz"
    assert display_name("/models/qwen2.5-0.5b-q4_k_m.gguf") == "qwen2.5-0.5b-q4_k_m.gguf"
    assert display_name("C:\\models\\x.gguf") == "x.gguf"
    assert default_name("https://openrouter.ai/api/v1/") == "OpenRouter"
    assert default_name("https://example.com/v1") == "example.com"

"""The API server switch in the main window: started from its window, the official `openai`
client gets the Chat tab's model's reply and the request is logged; a key is required when
set; a port in use is a sentence; other computers only after opting in, with a warning;
and closing the app stops the server before the engine."""

from __future__ import annotations

import socket
from typing import Any

import openai
import pytest

from desktop.core.chat.generation import LoadSettings
from tests.ui.test_accessible_names import unnamed_controls

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
REPLY = "Served through the app."
USER = [{"role": "user", "content": "hi"}]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def window(qtbot: Any, make_engine: Any, store: Any, tiny_gguf: Any) -> Any:
    from desktop.ui.main_window import MainWindow

    w = MainWindow(engine=make_engine(chat_template=CHATML, replies=[REPLY]), store=store)
    qtbot.addWidget(w)
    w.show()
    w.engine.load_requested.emit(str(tiny_gguf), LoadSettings())
    qtbot.waitUntil(lambda: w.chat_tab.model is not None, timeout=10_000)
    yield w
    w.close()


def test_started_from_the_window_the_openai_client_gets_a_reply(qtbot: Any, window: Any) -> None:
    panel = window.show_server_panel()
    assert unnamed_controls(panel) == []
    assert panel.width() <= 1024 and panel.height() <= 700
    port = free_port()
    panel.port.setValue(port)
    panel.key.setText("sk-local")
    panel.switch_button.click()
    assert window.server_switch.running and panel.switch_button.text() == "Stop"
    assert window.server_button.text() == f"API server: on ({port})"
    assert f"http://127.0.0.1:{port}/v1" in panel.address.text()
    assert "“tiny-chat”" in panel.model.text()  # the served model id
    assert not panel.port.isEnabled()  # settings are fixed while it runs
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-local",
                           max_retries=0)  # fmt: skip
    answer = client.chat.completions.create(model="tiny-chat", messages=USER)
    assert answer.choices[0].message.content == REPLY
    assert [m.id for m in client.models.list()] == ["tiny-chat"]
    qtbot.waitUntil(lambda: "POST /v1/chat/completions" in panel.log.toPlainText(), timeout=5000)
    wrong = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="tiny-chat", messages=USER)
    panel.switch_button.click()
    assert not window.server_switch.running and window.server_button.text() == "API server: off"
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="tiny-chat", messages=USER)


def test_a_port_in_use_is_a_sentence(qtbot: Any, window: Any) -> None:
    panel = window.show_server_panel()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        panel.port.setValue(port)
        panel.switch_button.click()
    assert not window.server_switch.running and panel.switch_button.text() == "Start"
    assert f"⚠ Cannot listen on 127.0.0.1:{port}" in panel.status.text()
    assert "another program may be using the port; pick another." in panel.status.text()


def test_other_computers_only_after_opting_in_with_a_warning(qtbot: Any, window: Any) -> None:
    panel = window.show_server_panel()
    assert "Only programs on this computer" in panel.warning.text()
    panel.allow_network.setChecked(True)
    assert "Other computers on your network can then send requests" in panel.warning.text()
    assert "No API key is set" in panel.warning.text()
    panel.key.setText("k")
    assert "No API key is set" not in panel.warning.text()
    port = free_port()
    panel.port.setValue(port)
    panel.switch_button.click()
    assert window.server_switch.server.host == "0.0.0.0"
    assert "from other computers" in panel.address.text()
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0)
    assert client.chat.completions.create(model="x", messages=USER).choices[0].message.content
    panel.switch_button.click()
    assert window.server_switch.server is None


def test_closing_the_window_stops_the_server_before_the_engine(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = window.show_server_panel()
    port = free_port()
    panel.port.setValue(port)
    panel.switch_button.click()
    server = window.server_switch.server
    running_at_engine_shutdown: list[bool] = []
    shutdown = window.engine.shutdown
    monkeypatch.setattr(window.engine, "shutdown",
                        lambda *a: (running_at_engine_shutdown.append(server.running),
                                    shutdown(*a)))  # fmt: skip
    window.close()
    assert running_at_engine_shutdown == [False]
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass

"""The API server's requests read and checked, and tool calls found in a model's text."""

from __future__ import annotations

import json

import pytest

from desktop.core.api.api_requests import ApiError, chat_call, completion_call
from desktop.core.api.tool_calls import ToolCallHoldback, parse_tool_calls

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]


def test_a_chat_request_is_read_with_openais_defaults() -> None:
    call = chat_call({"model": "x", "messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hi "},
                                     {"type": "text", "text": "there"}]},
    ], "stop": "\n", "logprobs": True, "top_logprobs": 3, "seed": 7})  # fmt: skip
    assert [m["role"] for m in call.messages] == ["system", "user"]
    assert call.messages[1]["content"] == "Hi there"
    assert call.common.sampling.temperature == 1.0 and call.common.sampling.top_p == 1.0
    assert call.common.stop == ("\n",) and call.common.max_tokens is None
    assert call.top_logprobs == 3 and call.common.sampling.seed == 7


@pytest.mark.parametrize(("body", "words"), [
    ({"messages": []}, "non-empty list"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "needs a 'role'"),
    ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "one choice"),
    ({"messages": [{"role": "user", "content": "x"}], "temperature": 5}, "'temperature'"),
    ({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}, "needs 'logprobs'"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "text only"),
])  # fmt: skip
def test_a_request_the_server_cannot_honour_is_refused_with_a_reason(body, words) -> None:
    with pytest.raises(ApiError, match=words) as caught:
        chat_call(body)
    assert caught.value.status == 400 and caught.value.body()["error"]["message"]


def test_tool_calls_in_history_reach_the_template_as_objects() -> None:
    call = chat_call({"messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "cold"},
    ], "tools": TOOLS})  # fmt: skip
    assert call.messages[1]["tool_calls"][0]["function"]["arguments"] == {"city": "Oslo"}
    assert call.messages[2]["tool_call_id"] == "c1" and call.tools
    assert chat_call({"messages": [{"role": "user", "content": "x"}], "tools": TOOLS,
                      "tool_choice": "none"}).tools == ()  # fmt: skip


def test_a_completion_request_takes_one_prompt() -> None:
    assert completion_call({"prompt": ["Once"], "logprobs": 2}).logprobs == 2
    with pytest.raises(ApiError, match="one prompt"):
        completion_call({"prompt": ["a", "b"]})


def test_hermes_and_qwen_tool_calls_are_found() -> None:
    call = '{"name": "get_weather", "arguments": {"city": "Oslo"}}'
    text = f"Let me look.\n<tool_call>\n{call}\n</tool_call>"
    content, calls = parse_tool_calls(text)
    assert content == "Let me look." and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Oslo"} and calls[0].id.startswith("call_")


def test_llama_json_tool_calls_are_found() -> None:
    content, calls = parse_tool_calls(
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Rome"}}'
    )
    assert content == "" and json.loads(calls[0].arguments) == {"city": "Rome"}
    assert parse_tool_calls('{"answer": 42}') == ('{"answer": 42}', [])  # JSON, not a call
    assert parse_tool_calls("<tool_call>not json</tool_call>")[1] == []


def test_streaming_holds_back_only_what_may_be_a_call() -> None:
    hold = ToolCallHoldback()
    assert hold.release("Sure, ") == 6
    assert hold.release("Sure, <tool_") == 6  # may be the start of a call
    assert hold.release("Sure, <tool_call>{") == 6
    plain = ToolCallHoldback()
    assert plain.release("a < b") == 5  # '<' then a space: not a tag
    assert ToolCallHoldback().release('{"name"') == 0  # a Llama-style call, maybe


def test_a_template_sees_the_tools_and_tool_messages_but_never_an_empty_list() -> None:
    from desktop.core.chat.chat_template import render_chat_template

    names = "{{ tools | map(attribute='function.name') | join(',') }}"
    template = ("{% if tools is defined %}[" + names + "]{% endif %}"
                "{% for m in messages %}{{ m.role }}:{{ m.content }}"
                "{% if m.tool_calls %}{{ m.tool_calls[0].function.arguments.city }}{% endif %};"
                "{% endfor %}")  # fmt: skip
    history = [{"role": "assistant", "content": "",
                "tool_calls": [{"function": {"name": "w", "arguments": {"city": "Oslo"}}}]},
               {"role": "tool", "content": "cold"}]  # fmt: skip
    assert (
        render_chat_template(template, history, tools=TOOLS)
        == "[get_weather]assistant:Oslo;tool:cold;"
    )
    # no tools: the variable stays undefined, exactly as before tools existed
    assert render_chat_template(template, history[1:]) == "tool:cold;"

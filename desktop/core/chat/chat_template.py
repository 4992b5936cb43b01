"""Render a GGUF model's own chat template (Jinja2) into the prompt text it expects.

This is what llama.cpp and Hugging Face do with `tokenizer.chat_template`; doing it here,
Qt-free and without loading the model, lets the UI show the exact prompt before it is sent.

A template is code from a file downloaded from strangers. Jinja's sandbox stops it from
reaching Python's internals, but not from looping for hours or building a gigabyte of
text. So the app renders templates only in a child process with a time and memory limit
(`desktop/engine/template_renderer.py`), and this function adds the limits that can be
checked cheaply before work is done: the template's size, the output's size, string
repetition, powers, padding widths, `lipsum`. Any failure at all — Jinja's own errors,
Python's (ZeroDivisionError, OverflowError, RecursionError, MemoryError…) — becomes a
ChatTemplateError with a sentence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from desktop.core.chat.generation import ChatMessage

MAX_TEMPLATE_CHARS = 256_000  # real templates are 1-40 KB
MAX_OUTPUT_CHARS = 4_000_000  # a prompt larger than this fits no model's context
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d+)|%[-+ #0]*\d*\.(\d+)|\{[^{}]*?:[^{}]*?(\d{5,})")


class ChatTemplateError(ValueError):
    """The model's chat template could not be rendered (a bug in the template, usually)."""


class _TooBig(ChatTemplateError):
    pass


def _raise_exception(message: str) -> None:
    raise ChatTemplateError(f"the chat template refused this conversation: {message}")


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _check_size(chars: int) -> None:
    if chars > MAX_OUTPUT_CHARS:
        raise _TooBig(
            f"the model's chat template tried to write {chars:,} characters "
            f"(at most {MAX_OUTPUT_CHARS:,} are allowed)"
        )


def _bounded_width(function: Callable[..., Any], width_arg: int) -> Callable[..., Any]:
    """A filter whose width argument (padding, wrapping) is checked before it runs."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        width = args[width_arg] if len(args) > width_arg else kwargs.get("width", 0)
        if isinstance(width, int):
            _check_size(width)
        return function(*args, **kwargs)

    return bounded


def _check_format(text: object) -> None:
    if isinstance(text, str):
        for match in _FORMAT_WIDTH.finditer(text):
            _check_size(max(int(g) for g in match.groups() if g))


def _checked_format(function: Callable[..., Any]) -> Callable[..., Any]:
    def checked(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_format(value)
        return function(value, *args, **kwargs)

    return checked


@lru_cache(maxsize=8)
def _compile(template: str) -> Any:
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                        _check_size(len(seq) * n)
            elif operator == "**" and isinstance(left, int) and isinstance(right, int):
                if right > 64 and abs(left) > 1:
                    _check_size(right * max(1, abs(left).bit_length()) // 3)
            elif operator == "%":
                _check_format(left)
            return super().call_binop(context, operator, left, right)

        def wrap_str_format(self, value: Any) -> Any:  # "…".format(…) in the template
            wrapped = super().wrap_str_format(value)
            if wrapped is not None:
                _check_format(value.__self__)
            return wrapped

    env = BoundedSandbox(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    lipsum: Callable[..., Any] = env.globals["lipsum"]  # type: ignore[assignment]
    env.globals["lipsum"] = lambda n=5, *a, **k: lipsum(min(int(n), 100), *a, **k)
    for name, width_arg in (("center", 1), ("indent", 1), ("wordwrap", 1), ("truncate", 1)):
        env.filters[name] = _bounded_width(env.filters[name], width_arg)
    env.filters["format"] = _checked_format(env.filters["format"])
    try:
        return env.from_string(template)
    except TemplateError as exc:
        raise ChatTemplateError(f"the model's chat template does not compile: {exc}") from exc


def _message_dict(message: ChatMessage | Mapping[str, Any]) -> dict[str, Any]:
    """A message as templates read it (Hugging Face's shape): tool calls with their
    arguments as an object, a tool result with the id of its call and the tool's name."""
    if not isinstance(message, ChatMessage):
        return dict(message)
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [
            {"id": call.id, "type": "function",
             "function": {"name": call.name, "arguments": _arguments(call.arguments)}}
            for call in message.tool_calls
        ]  # fmt: skip
    if message.role == "tool":
        data["tool_call_id"] = message.tool_call_id
        data["name"] = message.name
    return data


def _arguments(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def render_chat_template(
    template: str,
    messages: Sequence[ChatMessage | Mapping[str, Any]],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """The prompt, or ChatTemplateError with a sentence. Run it in the template renderer's
    child process (engine), never on a thread that must stay responsive.

    Messages may also be dicts as the API server receives them (tool calls, tool results);
    `tools` (OpenAI's function list) is given to the template as `tools`, as Hugging Face
    and llama.cpp do, only when there are some: a template then writes them its own way."""
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ChatTemplateError(
            f"the model's chat template is {len(template):,} characters long; templates "
            f"over {MAX_TEMPLATE_CHARS:,} are not run"
        )
    try:
        compiled = _compile(template)
        parts: list[str] = []
        size = 0
        extra = {"tools": [dict(t) for t in tools]} if tools else {}
        for part in compiled.generate(
            messages=[_message_dict(m) for m in messages],
            bos_token=bos_token,
            eos_token=eos_token,
            add_generation_prompt=add_generation_prompt,
            **extra,
        ):
            size += len(part)
            _check_size(size)
            parts.append(part)
    except ChatTemplateError:
        raise
    except RecursionError as exc:
        raise ChatTemplateError("the model's chat template recursed too deeply") from exc
    except MemoryError as exc:
        raise ChatTemplateError("the model's chat template ran out of memory") from exc
    except Exception as exc:  # Jinja's own errors and Python's: all the template's fault
        from jinja2.exceptions import TemplateError

        kind = "" if isinstance(exc, TemplateError) else f"{type(exc).__name__}: "
        raise ChatTemplateError(f"the model's chat template failed ({kind}{exc})") from exc
    text = "".join(parts)
    if not text.strip():
        raise ChatTemplateError("the model's chat template produced an empty prompt")
    return text

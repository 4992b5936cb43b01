"""A chat template that takes tools (written here in the Hermes/Qwen style: the tools in
the system turn, calls as <tool_call> JSON, results as <tool_response>), and the replies a
scripted model gives to use them."""

from __future__ import annotations

import json

HERMES_TOOLS_TEMPLATE = (
    "{%- if tools %}<|im_start|>system\n"
    "{% if messages[0].role == 'system' %}{{ messages[0].content }}\n\n{% endif %}"
    "You may call functions:\n<tools>\n{% for t in tools %}{{ t | tojson }}\n{% endfor %}"
    '</tools>\nCall one as <tool_call>{"name": …, "arguments": …}</tool_call><|im_end|>\n'
    "{% elif messages[0].role == 'system' %}<|im_start|>system\n"
    "{{ messages[0].content }}<|im_end|>\n{% endif %}"
    "{%- for m in messages %}{% if m.role == 'system' %}"
    "{% elif m.role == 'tool' %}<|im_start|>user\n<tool_response>\n{{ m.content }}\n"
    "</tool_response><|im_end|>\n"
    "{% elif m.role == 'assistant' and m.tool_calls %}<|im_start|>assistant\n{{ m.content }}"
    "{% for c in m.tool_calls %}<tool_call>\n"
    "{{ {'name': c.function.name, 'arguments': c.function.arguments} | tojson }}\n"
    "</tool_call>{% endfor %}<|im_end|>\n"
    "{% else %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# A template with no tool support (ChatML): the fenced form is used with it.
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
COUNT_RS = "print('raspberry'.count('r'))"


def hermes_call(name: str, **arguments: str) -> str:
    """A reply that calls a tool the way Hermes/Qwen models do."""
    body = json.dumps({"name": name, "arguments": arguments})
    return f"Let me check.\n<tool_call>\n{body}\n</tool_call>"


def fenced_python(code: str) -> str:
    return f"I will count with code.\n```python\n{code}\n```\nThe output is 2."

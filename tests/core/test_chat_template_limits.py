"""A chat template is code from a downloaded file: every way it can fail or blow up gives a
ChatTemplateError with a sentence, and the cheap limits stop it before the work is done."""

from __future__ import annotations

import tracemalloc

import pytest

from desktop.core.chat.chat_template import (
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_CHARS,
    ChatTemplateError,
    render_chat_template,
)
from desktop.core.chat.generation import ChatMessage

HI = [ChatMessage("user", "hi")]

HOSTILE = {
    "repeat": ("{{ 'x' * 10**9 }}", "tried to write 1,000,000,000 characters"),
    "repeat list": ("{{ ([1] * 10**9)|length }}", "tried to write 1,000,000,000 characters"),
    "center": ("{{ 'x'|center(10**9) }}", "tried to write 1,000,000,000 characters"),
    "percent": ("{{ '%0999999999d' % 1 }}", "tried to write 999,999,999 characters"),
    "format": ("{{ '{:>999999999}'.format(1) }}", "tried to write 999,999,999 characters"),
    "format filter": ("{{ '%999999999s'|format(1) }}", "tried to write 999,999,999 characters"),
    "power": ("{{ 7 ** 1000000000 }}", "characters"),
    "range": ("{% for i in range(10**9) %}x{% endfor %}", "Range too big"),
    "zero division": ("{{ 1/0 }}", "ZeroDivisionError"),
    "type": ("{{ 1 + 'a' }}", "TypeError"),
    "recursion": ("{% macro f(n) %}{{ f(n+1) }}{% endmacro %}{{ f(0) }}", "recursed too deeply"),
    "index": ("{{ messages[5].content }}", "failed"),
    "empty": ("{% if false %}x{% endif %}", "produced an empty prompt"),
    "syntax": ("{% for x in %}", "does not compile"),
    "refuses": ("{{ raise_exception('no system role') }}", "refused this conversation"),
    "output": ("{% for i in range(100000) %}{{ 'x' * 50 }}{% endfor %}", "characters"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_each_hostile_template_gives_one_sentence_quickly(name: str) -> None:
    template, expected = HOSTILE[name]
    tracemalloc.start()
    try:
        with pytest.raises(ChatTemplateError, match="chat template") as caught:
            render_chat_template(template, HI)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    assert peak < 64 << 20  # the limits are checked before the work, not after it


def test_a_template_larger_than_the_limit_is_not_compiled() -> None:
    with pytest.raises(ChatTemplateError, match="are not run"):
        render_chat_template("x" * (MAX_TEMPLATE_CHARS + 1), HI)


def test_lipsum_is_bounded_and_a_normal_template_still_renders() -> None:
    assert len(render_chat_template("{{ lipsum(10**6) }}", HI)) < MAX_OUTPUT_CHARS
    text = render_chat_template(
        "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}", HI
    )
    assert text == "<user>hi"

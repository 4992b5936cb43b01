"""Templates are rendered in a child process: a loop that never ends or a template that
eats memory is stopped with a sentence, and the next render works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.core.chat.chat_template import ChatTemplateError
from desktop.core.chat.generation import ChatMessage
from desktop.engine.template_renderer import TemplateRenderer

HI = [ChatMessage("user", "hi")]
ECHO = "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
FOREVER = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"
DOUBLING = (
    "{% macro f(s, n) %}{% if n %}{{ f(s ~ s, n - 1) }}{% else %}{{ s|length }}{% endif %}"
    "{% endmacro %}{{ f('x', 34) }}"
)


@pytest.fixture
def renderer() -> Iterator[TemplateRenderer]:
    r = TemplateRenderer(time_limit=1.0, memory_limit=512 << 20)
    yield r
    r.close()


def test_renders_in_the_child(renderer: TemplateRenderer) -> None:
    assert renderer.render(ECHO, HI) == "[user]hi"
    assert (
        renderer.render("{{ bos_token }}x{{ eos_token }}", HI, bos_token="<s>", eos_token="</s>")
        == "<s>x</s>"
    )


def test_a_template_that_never_ends_is_stopped_and_the_next_one_renders(
    renderer: TemplateRenderer,
) -> None:
    with pytest.raises(ChatTemplateError, match="took longer than 1 s"):
        renderer.render(FOREVER, HI)  # 10^10 iterations: only the time limit ends it
    assert renderer.render(ECHO, HI) == "[user]hi"


def test_a_template_that_eats_memory_is_stopped_with_a_sentence(
    renderer: TemplateRenderer,
) -> None:
    # RLIMIT_AS (Linux) stops it as it allocates; elsewhere the time limit does
    with pytest.raises(ChatTemplateError, match=r"memory|MB|took longer"):
        renderer.render(DOUBLING, HI)
    assert renderer.render(ECHO, HI) == "[user]hi"


def test_errors_in_the_child_come_back_as_sentences(renderer: TemplateRenderer) -> None:
    with pytest.raises(ChatTemplateError, match="ZeroDivisionError"):
        renderer.render("{{ 1/0 }}", HI)

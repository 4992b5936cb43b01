"""A chat template is code from a stranger's file: whatever it does to the compiler, the file
check gives one sentence about that file — never an exception, never a frozen caller."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from desktop.cli.inspect_command import inspect_command
from desktop.core.chat import template_check
from desktop.core.chat.chat_template import MAX_TEMPLATE_CHARS
from desktop.core.models import gguf_check
from desktop.core.models.bpe_vocab import byte_level_bpe_vocab
from desktop.core.models.gguf_check import check_gguf, template_errors
from desktop.core.models.gguf_writer import write_llama_gguf
from desktop.core.models.library import scan_library
from tests.gguf_fixtures import TINY_SHAPE, tiny_weights

NESTED_IFS = "{% if x %}" * 2000 + "{% endif %}" * 2000

HOSTILE_TEMPLATES = {
    "2,000 nested ifs": (NESTED_IFS, "is nested too deeply to compile"),
    "5,000 nested parentheses": ("{{" + "(" * 5000 + "1" + ")" * 5000 + "}}", "nested too deeply"),
    "5,000 nots": ("{{ " + "not " * 5000 + "x }}", "nested too deeply"),
    "2,000 filters in a row": ("{{ x" + "|e" * 2000 + " }}", "nested too deeply"),
    # parses, but Python's compiler allows only ~100 indented blocks: llama-cpp-python's
    # load would fail on it, so the check must too
    "150 nested ifs": ("{% if x %}" * 150 + "{% endif %}" * 150, "IndentationError"),
    "120 nested fors": ("{% for a in b %}" * 120 + "{% endfor %}" * 120, "IndentationError"),
    "300 KB": ("x" * 300_000, f"templates over {MAX_TEMPLATE_CHARS:,} are not used"),
    "syntax error": ("{% for m in messages %}{{ m | }}", "does not compile (expected token"),
}


def with_template(folder: Path, template: str, name: str = "t.gguf") -> Path:
    path = folder / name
    vocab = byte_level_bpe_vocab(TINY_SHAPE.vocab_size)
    write_llama_gguf(path, TINY_SHAPE, tiny_weights(), vocab, chat_template=template)
    return path


@pytest.mark.parametrize("kind", HOSTILE_TEMPLATES)
def test_hostile_template_is_one_sentence(kind: str) -> None:
    template, words = HOSTILE_TEMPLATES[kind]
    errors = template_errors("m.gguf", template)
    assert len(errors) == 1 and errors[0].startswith("m.gguf has a chat template ")
    assert words in errors[0]
    assert "\n" not in errors[0] and len(errors[0]) < 400


@pytest.mark.parametrize("raised", [RecursionError, MemoryError, ZeroDivisionError, KeyError])
def test_any_failure_of_the_compiler_is_one_sentence(
    raised: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Exploding:
        def compile(self, _source: str) -> None:
            raise raised("boom")

    monkeypatch.setattr(template_check, "_template_environment", Exploding)
    template_check._template_problem.cache_clear()
    try:
        errors = template_errors("m.gguf", "{{ messages }} " + raised.__name__)
    finally:
        template_check._template_problem.cache_clear()
    assert len(errors) == 1 and errors[0].startswith("m.gguf has a chat template that ")


def test_real_templates_still_pass() -> None:
    from desktop.core.models.gguf_writer import CHATML_TEMPLATE

    assert template_errors("m.gguf", CHATML_TEMPLATE) == []
    generation = (
        "{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}"
    )
    assert template_errors("m.gguf", generation) == []


def test_nested_template_file_check_inspect_and_library(tmp_path: Path, tiny_gguf: Path) -> None:
    path = with_template(tmp_path, NESTED_IFS, "nested.gguf")
    result = check_gguf(path, check_memory=False)
    assert not result.ok and result.errors == [
        "nested.gguf has a chat template that is nested too deeply to compile "
        "(llama.cpp could not load it)"
    ]
    out, err = io.StringIO(), io.StringIO()
    assert inspect_command(str(path), True, out, err) == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith("error: nested.gguf has a chat template that is nested")
    assert err.getvalue().count("\n") == 1
    shutil.copy(tiny_gguf, tmp_path / "good.gguf")
    entries = {e.path.name: e for e in scan_library([tmp_path])}
    assert entries["good.gguf"].info is not None  # the good model is not hidden
    assert "nested too deeply" in (entries["nested.gguf"].error or "")


def test_check_gguf_never_raises_whatever_breaks(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gap in the rules (here simulated) is still one line for the file, not a raise."""

    def broken(*_args: object) -> list[str]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(gguf_check, "header_errors", broken)
    result = check_gguf(tiny_gguf)
    assert not result.ok and result.errors == [
        f"{tiny_gguf.name} {gguf_check.UNCHECKABLE} (RecursionError)"
    ]


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a' | center(10**8) }}",
        "{% set x = 'a' * 10**8 %}{{ x }}",
        "{{ 'ab' ~ 'c' * 10**8 }}",
        "{{ [1] * 10**8 }}",
    ],
)
def test_checking_a_template_never_runs_it(template: str) -> None:
    """jinja computes constant output while compiling; the check must not (these would
    take seconds and hundreds of MB each; at 10**9, a minute and gigabytes)."""
    import tracemalloc

    template_check._template_problem.cache_clear()
    tracemalloc.start()
    try:
        errors = template_errors("m.gguf", template)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert errors == []  # it compiles: rendering it is the renderer's job, with its limits
    assert peak < 20 << 20


def test_named_templates_are_checked_too(tmp_path: Path) -> None:
    """llama-cpp-python compiles `tokenizer.chat_template.*` at load as well."""
    from tests.fuzz.corpus import base_gguf

    builder = base_gguf(template="{{ messages }}")
    data = bytes(builder.data)
    path = tmp_path / "named.gguf"
    path.write_bytes(data)
    assert check_gguf(path, check_memory=False).ok
    named = base_gguf(template="{{ messages }}", extra_templates={"tool_use": NESTED_IFS})
    path.write_bytes(bytes(named.data))
    result = check_gguf(path, check_memory=False)
    assert not result.ok and result.errors == [
        "named.gguf has a chat template that is nested too deeply to compile "
        "(llama.cpp could not load it) (the one named 'chat_template.tool_use')"
    ]

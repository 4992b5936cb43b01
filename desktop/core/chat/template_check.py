"""Does a GGUF's chat template compile, as llama-cpp-python compiles it while loading?

llama-cpp-python compiles every chat template in the file while loading the model, so one
that does not compile makes the whole model unloadable. The template comes from a
stranger: whatever it does to the compiler — a RecursionError from 2,000 nested `if`s,
MemoryError, Python's own nesting limits — is one sentence about the file, never an
exception for the caller. Compiling here must also never *run* the template: jinja
computes constant expressions while compiling, and `{{ 'a' | center(10**9) }}` would
take a minute and a gigabyte, so that is switched off (`_NoConstants`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from desktop.core.chat.chat_template import MAX_TEMPLATE_CHARS


def template_errors(name: str, template: str) -> list[str]:
    """[] if the template compiles, else one sentence naming the file `name`."""
    if len(template) > MAX_TEMPLATE_CHARS:
        return [
            f"{name} has a chat template of {len(template):,} characters; templates over "
            f"{MAX_TEMPLATE_CHARS:,} are not used (real ones are 1-40 KB)"
        ]
    problem = _template_problem(template)
    return [f"{name} has a chat template that {problem}"] if problem else []


@lru_cache(maxsize=32)  # many models in a library share one template
def _template_problem(template: str) -> str | None:
    """Why the template does not compile, or None; compiled, not only parsed, because
    code generation fails on nesting that parses (Python allows ~100 indented blocks)."""
    from jinja2.exceptions import TemplateError

    try:
        _template_environment().compile(template)
    except TemplateError as exc:
        return f"does not compile ({_first_line(exc)})"
    except RecursionError:
        return "is nested too deeply to compile (llama.cpp could not load it)"
    except MemoryError:
        return "is too large to compile"
    except Exception as exc:  # Python's compiler: "too many levels of indentation", …
        return f"does not compile ({type(exc).__name__}: {_first_line(exc)})"
    return None


def _template_environment() -> Any:
    from jinja2.compiler import CodeGenerator
    from jinja2.ext import Extension
    from jinja2.nodes import Impossible, Node
    from jinja2.parser import Parser
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationTags(Extension):  # Transformers' {% generation %} markers, as llama-cpp
        tags = {"generation"}  # noqa: RUF012 - jinja's own class attribute

        def parse(self, parser: Parser) -> list[Node]:
            parser.stream.skip(1)
            return parser.parse_statements(("name:endgeneration",), drop_needle=True)

    class _NoConstants(CodeGenerator):
        """Output is never computed at compile time (jinja does it for constant `{{ }}`)."""

        def _output_child_to_const(self, *_args: Any) -> str:
            raise Impossible()

    class CheckingEnvironment(ImmutableSandboxedEnvironment):
        code_generator_class = _NoConstants

    # optimized=False: the optimizer folds constants too (`{% set x = 'a' * 10**9 %}`).
    return CheckingEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[GenerationTags, "jinja2.ext.loopcontrols"],
        optimized=False,
    )


def _first_line(exc: BaseException) -> str:
    """An error message as one short line (a template's own text may be in it)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"

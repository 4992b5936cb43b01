"""One chat request through a HostSession: the prompt built (the template rendered in
its limited child process), fitted to the context with the model's own token count, and
the reply streamed. Qt-free: the engine thread's tasks and the command line share it.

A remote model (`model.endpoint`) is planned by desktop/core/remote/remote_prompt.py
instead: in chat mode its messages are sent as they are, and tokens are estimated (a
server does not share its tokenizer); the fitting to its context is the same."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from desktop.core.chat.base_prompt import BasePromptStyle
from desktop.core.chat.chat_request import ChatReply, ChatRequest, RequestCancelled
from desktop.core.chat.chat_template import ChatTemplateError
from desktop.core.chat.context_fit import ContextFull, FittedPrompt, fit_to_context
from desktop.core.chat.generation import ChatMessage, GenerationRequest, TokenEvent
from desktop.core.chat.prompt_builder import (
    PromptMode,
    PromptPlan,
    Render,
    TemplateInfo,
    build_prompt,
)
from desktop.core.documents.fitting import fit_documents
from desktop.core.models.model_info import ModelInfo
from desktop.core.models.model_kind import detect_kind, model_names
from desktop.core.remote.endpoint import approximate_tokens
from desktop.core.remote.remote_prompt import plan_messages, remote_plan
from desktop.core.tools.tool_format import (
    ToolFormat,
    as_plain_turns,
    fenced_instruction,
    with_instruction,
)
from desktop.core.tools.tool_loop import tools_left
from desktop.core.tools.tool_specs import TOOL_NAMES, tool_schemas
from desktop.engine.host_session import HostSession, SessionError
from desktop.engine.protocol import LoadedModel
from desktop.engine.template_renderer import render_safely

# Request ids of the engine's own requests; the host echoes them in its answers.
_request_ids = itertools.count(1)


def default_prompt_mode(model: LoadedModel) -> PromptMode:
    """The Chat tab's and the CLI's mode when none is chosen: a base model (by its name, or
    having no template) gets the base-model prompt, an instruct model its chat template."""
    header_name = model.info.name if isinstance(model.info, ModelInfo) else ""
    kind, _why = detect_kind(model.template, model_names(model.path, header_name))
    return "template" if kind == "instruct" else "base"


def fit_prompt(
    session: HostSession, request: ChatRequest, render: Render = render_safely
) -> FittedPrompt:
    """The prompt for `request` as the model will read it, and the room left for a reply.
    Raises SessionError (no model) or ContextFull (nothing fits)."""
    model = session.model
    if model is None:
        raise SessionError("No model is loaded. Pick a model and load it first.")
    counted: dict[str, int] = {}
    remote = model.endpoint
    mode = request.mode or (None if remote else default_prompt_mode(model))

    def count(text: str) -> int:
        if remote:
            return approximate_tokens(text)
        if text not in counted:  # BOS included, exactly as the prompt is sent
            counted[text] = len(session.tokenize(0, text, True, add_bos=True)[0])
        return counted[text]

    base = mode == "base"
    offered, tool_format = tools_and_format(request, model, mode, render)
    messages = prompt_messages(request, offered, tool_format, base)
    schemas = tool_schemas(offered) if tool_format == "template" else []

    def build_with(style: BasePromptStyle) -> Callable[[Sequence[ChatMessage]], PromptPlan]:
        def build(chosen: Sequence[ChatMessage]) -> PromptPlan:
            if remote:
                return remote_plan(chosen, remote, mode, style)
            return build_prompt(chosen, model.template, mode, render=render, style=style,
                                tools=schemas)  # fmt: skip

        return build

    placed = None
    if request.documents:
        build = build_with(request.style)
        messages, placed = fit_documents(
            messages, request.documents, lambda chosen: count(build(chosen).text),
            model.context_size, request.sampling.max_tokens,
        )  # fmt: skip

    def fit(style: BasePromptStyle) -> FittedPrompt:
        fitted = fit_to_context(messages, build_with(style), count, model.context_size,
                                request.sampling.max_tokens, request.overflow)  # fmt: skip
        return replace(fitted, tools=offered, tool_format=tool_format, documents=placed)

    examples = request.style.examples if base else ()
    for keep in range(len(examples), -1, -1):
        # A small context (the Train tab's models): the base-model prompt sheds its
        # examples, the last one first, before the conversation is given up.
        try:
            fitted = fit(replace(request.style, examples=examples[:keep]))
        except ContextFull:
            if keep == 0 or request.overflow == "stop":
                raise
            continue
        if keep == len(examples):
            return fitted
        left_out = (f"{len(examples) - keep} of the {len(examples)} example exchanges left "
                    f"out to fit the model's context of {model.context_size:,} tokens")  # fmt: skip
        return replace(fitted, note="; ".join(n for n in (left_out, fitted.note) if n))
    raise AssertionError("unreachable")


def tools_and_format(
    request: ChatRequest, model: LoadedModel, mode: PromptMode | None, render: Render
) -> tuple[tuple[str, ...], ToolFormat | None]:
    """The tools this request may still offer (none in raw text, none once the question's
    rounds are used up), and the form the model is asked to call them in: its template's
    own where the template writes tools (a local model in chat-template mode), else the
    fenced blocks."""
    offered = tools_left(request.messages, request.tools)
    mode = mode or "template"  # None: a remote model's own chat
    if not offered or mode == "raw":
        return (), None
    if mode == "template" and not model.endpoint and template_takes_tools(model.template, render):
        return offered, "template"
    return offered, "fenced"


def prompt_messages(request: ChatRequest, offered: tuple[str, ...],
                    tool_format: ToolFormat | None, base: bool) -> list[ChatMessage]:  # fmt: skip
    """The conversation as this prompt writes it: tool turns as the template's own
    messages, or as plain text with the fenced-block instruction."""
    if tool_format == "template":
        return list(request.messages)
    messages = as_plain_turns(request.messages)
    if tool_format == "fenced":
        identity = request.style.identity if base else ""
        messages = with_instruction(messages, fenced_instruction(offered), identity)
    return messages


_takes_tools: dict[tuple[str, str, str], bool] = {}


def template_takes_tools(template: TemplateInfo, render: Render = render_safely) -> bool:
    """Whether the chat template writes a `tools` list into the prompt: the same message
    rendered with and without one differs. (Looking for the word "tools" in the template
    would be fooled by comments and by templates that only mention it.)"""
    source = template.chat_template
    if not source:
        return False
    key = (source, template.bos_token, template.eos_token)
    if key not in _takes_tools:
        probe = [ChatMessage("user", "Hello")]
        options = {"bos_token": template.bos_token, "eos_token": template.eos_token}
        try:
            plain = render(source, probe, **options)
            with_tools = render(source, probe, tools=tool_schemas(TOOL_NAMES), **options)
            _takes_tools[key] = plain != with_tools
        except ChatTemplateError:
            _takes_tools[key] = False
    return _takes_tools[key]


def generation_request(request: ChatRequest, fitted: FittedPrompt) -> GenerationRequest:
    return GenerationRequest(
        request_id=next(_request_ids),
        prompt=fitted.plan.text,
        sampling=replace(request.sampling, max_tokens=fitted.max_tokens),
        stop=fitted.plan.stops,
        top_alternatives=request.top_alternatives,
        threads=request.threads,
        messages=plan_messages(fitted.plan),
    )


def ask(
    session: HostSession,
    request: ChatRequest,
    on_tokens: Callable[[Sequence[TokenEvent]], None] = lambda _batch: None,
    cancelled: threading.Event | None = None,
    on_prompt: Callable[[FittedPrompt], None] = lambda _fitted: None,
    render: Render = render_safely,
) -> ChatReply:
    """The reply to `request`. Raises RequestCancelled when `cancelled` stops it."""
    if cancelled is not None and cancelled.is_set():
        raise RequestCancelled
    fitted = fit_prompt(session, request, render)
    on_prompt(fitted)
    events: list[TokenEvent] = []

    def collect(batch: Sequence[TokenEvent]) -> None:
        events.extend(batch)
        on_tokens(batch)

    stats = session.generate(generation_request(request, fitted), collect, cancelled)
    if stats.stop_reason == "cancelled" and cancelled is not None and cancelled.is_set():
        raise RequestCancelled
    return ChatReply(stats.text, stats, fitted, tuple(events))

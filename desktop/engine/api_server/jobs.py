"""One API request run with the model, on the runner's thread: the prompt built (the
model's chat template, with the request's tools), counted, checked against the context,
and generated; everything it produces goes into a queue the request's HTTP thread reads.

The generating thread never touches a socket: a slow or vanished client cannot hold up
the model, and the HTTP thread stops the job through `cancelled` when its client leaves.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from desktop.core.api.api_requests import ApiError, ChatCall, Common, CompletionCall
from desktop.core.chat.chat_template import ChatTemplateError
from desktop.core.chat.generation import ChatMessage, GenerationRequest, GenerationStats, TokenEvent
from desktop.core.chat.prompt_builder import build_prompt
from desktop.core.remote.chunks import messages_text
from desktop.core.remote.endpoint import approximate_tokens
from desktop.engine.host_session import HostSession, ModelCrashed, SessionError, sentence
from desktop.engine.protocol import LoadedModel
from desktop.engine.template_renderer import render_safely

_request_ids = itertools.count(1_000_000)  # apart from the Chat tab's ids, for logs


@dataclass(frozen=True)
class Started:
    prompt_tokens: int


@dataclass(frozen=True)
class Tokens:
    events: tuple[TokenEvent, ...]


@dataclass(frozen=True)
class Done:
    stats: GenerationStats
    prompt_tokens: int


@dataclass(frozen=True)
class Failed:
    error: ApiError


JobEvent = Started | Tokens | Done | Failed
Prompt = tuple[str, tuple[str, ...], tuple[ChatMessage, ...]]  # text, stops, remote messages


class Job:
    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.events: queue.SimpleQueue[JobEvent] = queue.SimpleQueue()


def no_model() -> ApiError:
    return ApiError(
        503,
        "No model is loaded in Deep Dive Lab: load one in the Chat tab, or "
        "start `deepdive-lab serve --model MODEL.gguf`.",
        kind="server_error",
        code="model_not_loaded",
    )


def served_id(model: LoadedModel) -> str:
    """The model's name in the API: the GGUF file's name, or the remote model's own."""
    if model.endpoint:
        return model.description
    name = model.path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.removesuffix(".gguf")


def chat_prompt(model: LoadedModel, call: ChatCall) -> Prompt:
    messages = call.messages
    has_tool_parts = any(m["role"] == "tool" or "tool_calls" in m for m in messages)
    if model.endpoint:  # a remote model served on: its own server applies the template
        if call.tools or has_tool_parts:
            raise ApiError(400, "Tools are not passed on to a remote model.", param="tools")
        sent = tuple(ChatMessage(m["role"], m["content"]) for m in messages)
        return messages_text(sent), (), sent
    template = model.template
    if template.chat_template:
        text = render_safely(
            template.chat_template,
            messages,
            bos_token=template.bos_token,
            eos_token=template.eos_token,
            tools=call.tools or None,
        )
        return text, (template.eos_token,) if template.eos_token else (), ()
    if call.tools or has_tool_parts:
        raise ApiError(
            400, "This model has no chat template, so it cannot be offered tools.", param="tools"
        )
    plan = build_prompt([ChatMessage(m["role"], m["content"]) for m in messages], template, "base")
    return plan.text, plan.stops, ()


def completion_prompt(_model: LoadedModel, call: CompletionCall) -> Prompt:
    return call.prompt, (), ()


def run(
    job: Job,
    common: Common,
    top_alternatives: int,
    build: Callable[[LoadedModel], Prompt],
) -> Callable[[HostSession, int], None]:
    """The work to hand to a Runner."""

    def work(session: HostSession, threads: int) -> None:
        try:
            _generate(session, threads, job, common, top_alternatives, build)
        except ApiError as exc:
            job.events.put(Failed(exc))
        except ChatTemplateError as exc:
            job.events.put(Failed(ApiError(400, sentence(str(exc)), param="messages")))
        except ModelCrashed as exc:
            job.events.put(Failed(ApiError(500, str(exc), kind="server_error")))
            raise  # the engine reports a crash to the app too
        except SessionError as exc:
            job.events.put(Failed(ApiError(500, str(exc), kind="server_error")))
        except Exception as exc:  # a bug: the client gets an answer, the runner lives on
            job.events.put(Failed(ApiError(500, f"Unexpected error: {exc}", kind="server_error")))

    return work


def _generate(
    session: HostSession, threads: int, job: Job, common: Common, top: int,
    build: Callable[[LoadedModel], Prompt],
) -> None:  # fmt: skip
    if job.cancelled.is_set():
        return  # the client left while the request waited in the queue
    model = session.model
    if model is None:
        raise no_model()
    text, stops, messages = build(model)
    if model.endpoint:
        prompt_tokens = approximate_tokens(text)
    else:
        prompt_tokens = len(session.tokenize(0, text, True, add_bos=True)[0])
    room = model.context_size - prompt_tokens
    if room <= 0:
        raise ApiError(
            400,
            f"This model's context is {model.context_size:,} tokens; the "
            f"prompt alone is {prompt_tokens:,}.",
            param="messages",
            code="context_length_exceeded",
        )
    max_tokens = min(common.max_tokens or room, room)
    request = GenerationRequest(
        request_id=next(_request_ids),
        prompt=text,
        sampling=replace(common.sampling, max_tokens=max_tokens),
        stop=_unique((*stops, *common.stop)),
        top_alternatives=top,
        threads=threads,
        messages=messages,
    )
    job.events.put(Started(prompt_tokens))
    stats = session.generate(
        request, lambda batch: job.events.put(Tokens(tuple(batch))), job.cancelled
    )
    job.events.put(Done(stats, stats.prompt_tokens or prompt_tokens))


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))

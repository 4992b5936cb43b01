"""`deepdive-lab chat MODEL "text" [--mode raw|base|template]`: one reply, streamed,
through the model host - the prompt built, fitted and sent exactly as the Chat tab does."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.context_fit import ContextFull
from desktop.core.chat.generation import ChatMessage, LoadSettings, SamplingSettings, TokenEvent
from desktop.core.chat.prompt_builder import MODES
from desktop.engine.chat_turn import ask
from desktop.engine.host_session import HostSession, SessionError


def add_chat_arguments(chat: argparse.ArgumentParser) -> None:
    chat.add_argument("model", help="path to a .gguf file")
    chat.add_argument("prompt", help="the user's message (in raw mode: the text to continue)")
    chat.add_argument("--mode", choices=MODES, default=None,
                      help="raw: continue the text; base: an identity and examples make a "
                      "base model answer; template: the model's chat template (default: "
                      "template if the model has one, else base)")  # fmt: skip
    chat.add_argument("--base", action="store_const", const="base", dest="mode",
                      help="same as --mode base")  # fmt: skip
    chat.add_argument("--system", default="", help="system prompt (the model's identity)")
    chat.add_argument("--temperature", type=float, default=0.7)
    chat.add_argument("--top-p", type=float, default=0.95)
    chat.add_argument("--top-k", type=int, default=40)
    chat.add_argument("--max-tokens", type=int, default=256)
    chat.add_argument("--seed", type=int, default=-1, help="-1: random")
    chat.add_argument("--context", type=int, default=2048, help="context size in tokens")
    chat.add_argument("--threads", type=int, default=0, help="CPU threads (0: physical cores)")
    chat.add_argument("--json", action="store_true", help="end with one JSON line of figures")


def chat_command(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    messages = [ChatMessage("system", args.system)] if args.system else []
    messages.append(ChatMessage("user", args.prompt))

    def show(batch: Sequence[TokenEvent]) -> None:
        out.write("".join(event.text for event in batch))
        out.flush()

    sampling = SamplingSettings(temperature=args.temperature, top_p=args.top_p,
                                top_k=args.top_k, max_tokens=args.max_tokens,
                                seed=args.seed)  # fmt: skip
    request = ChatRequest(tuple(messages), sampling, mode=args.mode, overflow="stop")
    session = HostSession()
    try:
        session.load(args.model, LoadSettings(context_size=args.context, threads=args.threads))
        reply = ask(session, request, show)
    except (SessionError, ContextFull) as exc:
        print(f"error: {exc}", file=err)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        session.close()
    out.write("\n")
    stats, fitted = reply.stats, reply.prompt
    if fitted is not None and fitted.plan.note:
        print(f"note: {fitted.plan.note}", file=err)
    if args.json:
        figures = {
            "reply": stats.text,
            "tokens": stats.generated_tokens,
            "prompt_tokens": stats.prompt_tokens,
            "time_to_first_token_s": round(stats.time_to_first_token_s, 4),
            "tokens_per_s": round(stats.tokens_per_s, 2),
            "stop_reason": stats.stop_reason,
            "prompt_mode": fitted.plan.label if fitted else "",
        }
        out.write(json.dumps(figures) + "\n")
    return 0

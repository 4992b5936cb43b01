"""`deepdive-lab chat MODEL "prompt"`: one reply, streamed, through the model host."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from desktop.core.generation import (
    ChatMessage,
    GenerationRequest,
    LoadSettings,
    SamplingSettings,
    TokenEvent,
)
from desktop.core.prompt_builder import PromptPlan, build_prompt
from desktop.engine.host_session import HostSession, SessionError


def chat_command(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    messages = [ChatMessage("system", args.system)] if args.system else []
    messages.append(ChatMessage("user", args.prompt))

    def show(batch: Sequence[TokenEvent]) -> None:
        out.write("".join(event.text for event in batch))
        out.flush()

    session = HostSession()
    try:
        model = session.load(
            args.model, LoadSettings(context_size=args.context, threads=args.threads)
        )
        plan = build_prompt(messages, model.template, base_mode=args.base)
        stats = session.generate(_request(args, plan), show)
    except SessionError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        session.close()
    out.write("\n")
    if args.json:
        figures = {
            "reply": stats.text,
            "tokens": stats.generated_tokens,
            "prompt_tokens": stats.prompt_tokens,
            "time_to_first_token_s": round(stats.time_to_first_token_s, 4),
            "tokens_per_s": round(stats.tokens_per_s, 2),
            "stop_reason": stats.stop_reason,
            "prompt_mode": plan.mode,
        }
        out.write(json.dumps(figures) + "\n")
    return 0


def _request(args: argparse.Namespace, plan: PromptPlan) -> GenerationRequest:
    return GenerationRequest(
        request_id=1,
        prompt=plan.text,
        stop=plan.stops,
        sampling=SamplingSettings(
            temperature=args.temperature,
            top_p=args.top_p,
            top_k=args.top_k,
            max_tokens=args.max_tokens,
            seed=args.seed,
        ),
    )

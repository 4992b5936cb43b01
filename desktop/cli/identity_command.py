"""`deepdive-lab identity --name NAME --maker MAKER [--count N] [--fact F]… [--tone T]
> D.jsonl`: an identity set — who the assistant is, asked many ways and answered in one
tone — as OpenAI `messages` JSONL, ready for `deepdive-lab sft --data D.jsonl`."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO


def add_identity_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from desktop.core.posttrain.identity import DEFAULT_COUNT, TONES

    identity = commands.add_parser("identity", help="write an identity set (JSONL) to stdout")
    identity.add_argument("--name", required=True, help="the assistant's name")
    identity.add_argument("--maker", required=True, help="who made it")
    identity.add_argument("--count", type=int, default=DEFAULT_COUNT, help="conversations")
    identity.add_argument("--fact", action="append", default=[],
                          help="a fact about the assistant (repeatable)")  # fmt: skip
    identity.add_argument("--tone", choices=TONES, default="friendly")
    identity.add_argument("--seed", type=int, default=0)


def identity_command(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    from desktop.core.posttrain.chat_data import to_jsonl
    from desktop.core.posttrain.identity import Identity, identity_conversations

    try:
        identity = Identity(args.name, args.maker, tuple(args.fact), args.tone)
        conversations = identity_conversations(identity, args.count, args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return 2
    out.write(to_jsonl(conversations))
    return 0

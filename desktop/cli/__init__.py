"""`deepdive-lab`: the GUI by default, and a Qt-free command line over the same core.

Subcommands import only what they need: `inspect` never loads Qt or llama.cpp, `chat`
runs llama.cpp in the same model-host process the GUI uses.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepdive-lab",
        description="Deep Dive Lab: see how an LLM assistant is made, on your own CPU.",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="open the window, visit every tab, exit 0"
    )
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window")
    parser.add_argument("--selftest", action="store_true",
                        help="check this installation offline, print one JSON line, exit 0 "
                        "when it works")  # fmt: skip
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    inspect = commands.add_parser("inspect", help="show what is inside a GGUF model file")
    inspect.add_argument("model", help="path to a .gguf file")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")

    chat = commands.add_parser("chat", help="ask a local GGUF model one question")
    from desktop.cli.chat_command import add_chat_arguments

    add_chat_arguments(chat)

    from desktop.cli.models_command import add_models_parser

    add_models_parser(commands)
    from desktop.cli.tokens_command import add_tokens_parser

    add_tokens_parser(commands)
    from desktop.cli.train_command import add_train_parser

    add_train_parser(commands)
    from desktop.cli.sft_command import add_sft_parser

    add_sft_parser(commands)
    from desktop.cli.identity_command import add_identity_parser

    add_identity_parser(commands)
    from desktop.cli.quiz_command import add_quiz_parser

    add_quiz_parser(commands)
    from desktop.cli.rl_command import add_rl_parsers

    add_rl_parsers(commands)
    from desktop.cli.run_code_command import add_run_code_parser

    add_run_code_parser(commands)
    from desktop.cli.serve_command import add_serve_parser

    add_serve_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # First of all: in a frozen (PyInstaller) app the model host is this same executable
    # started by multiprocessing, and it must be caught before argparse sees its arguments.
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 1 and argv[0].lower().endswith(".gguf"):
        # a double-clicked model file (the installers associate .gguf with the app)
        from desktop.app import run_app

        return run_app(open_model=argv[0])
    args = build_parser().parse_args(argv)
    if args.command == "inspect":
        from desktop.cli.inspect_command import inspect_command

        return inspect_command(args.model, as_json=args.json)
    if args.command == "chat":
        from desktop.cli.chat_command import chat_command

        return chat_command(args)
    if args.command == "train":
        from desktop.cli.train_command import train_command

        return train_command(args)
    if args.command == "sft":
        from desktop.cli.sft_command import sft_command

        return sft_command(args)
    if args.command == "identity":
        from desktop.cli.identity_command import identity_command

        return identity_command(args)
    if args.command in ("rl", "rlhf"):
        from desktop.cli.rl_command import rl_command, rlhf_command

        return rl_command(args) if args.command == "rl" else rlhf_command(args)
    if args.command == "quiz":
        from desktop.cli.quiz_command import quiz_command

        return quiz_command(args)
    if args.command == "tokens":
        from desktop.cli.tokens_command import tokens_command

        return tokens_command(args)
    if args.command == "run-code":
        from desktop.cli.run_code_command import run_code_command

        return run_code_command(args)
    if args.command == "serve":
        from desktop.cli.serve_command import serve_command

        return serve_command(args)
    if args.command == "models":
        from desktop.cli.models_command import models_command

        return models_command(args)
    if args.selftest:
        from desktop.selftest import run_selftest

        return run_selftest()
    from desktop.app import run_app

    return run_app(smoke=args.smoke, screenshot=args.screenshot)


if __name__ == "__main__":
    sys.exit(main())

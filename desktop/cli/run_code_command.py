"""`deepdive-lab run-code [--file F | CODE] [--json]`: run Python in the app's sandbox.

The same sandbox the Chat tab's "Use code" runs model-written code in, so it can be tried
(and attacked) on its own. Without --json the code's stdout and stderr are passed through
and the sandbox's sentence (an error, a limit hit) follows on stderr; with --json one
object: ok, stdout, stderr, error, limit_hit, exit_code, seconds, cpu_seconds, limits.
Exit codes: 0 the code ran (even if it raised or hit a limit), 1 the sandbox could not
run it, 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from desktop.cli.output import json_text, shown
from desktop.core.sandbox.limits import KIB, MIB, SandboxLimits

EXIT_SANDBOX_FAILED = 1
EXIT_USAGE = 2


def add_run_code_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    defaults = SandboxLimits()
    run = commands.add_parser("run-code", help="run Python code in the app's sandbox")
    run.add_argument("code", nargs="?", default=None, help="the code (or --file)")
    run.add_argument("--file", metavar="F", help="read the code from F ('-': stdin)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--cpu-seconds", type=float, default=defaults.cpu_seconds,
                     help="CPU time limit (default: %(default)g)")  # fmt: skip
    run.add_argument("--memory-mb", type=float, default=defaults.memory_bytes / MIB,
                     help="memory limit in MB (default: %(default)g)")  # fmt: skip
    run.add_argument("--output-kb", type=float, default=defaults.output_bytes / KIB,
                     help="stdout + stderr limit in KB (default: %(default)g)")  # fmt: skip
    run.add_argument("--wall-seconds", type=float, default=defaults.wall_seconds,
                     help="wall-clock limit (default: %(default)g)")  # fmt: skip
    run.add_argument("--disk-mb", type=float, default=defaults.disk_bytes / MIB,
                     help="limit on the files it writes, in MB (default: %(default)g)")  # fmt: skip


def run_code_command(args: argparse.Namespace, out: TextIO = sys.stdout,
                     err: TextIO = sys.stderr) -> int:  # fmt: skip
    usage = _usage_error(args)
    if usage:
        print(f"usage error: {usage}", file=err)
        return EXIT_USAGE
    try:
        code = _read_code(args)
        limits = SandboxLimits(
            cpu_seconds=args.cpu_seconds, memory_bytes=int(args.memory_mb * MIB),
            output_bytes=int(args.output_kb * KIB), wall_seconds=args.wall_seconds,
            disk_bytes=int(args.disk_mb * MIB),
        )  # fmt: skip
    except (OSError, UnicodeDecodeError) as exc:
        print(f"usage error: cannot read {args.file}: {exc}", file=err)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"usage error: {exc}", file=err)
        return EXIT_USAGE
    from desktop.engine.sandbox.run_code import run_code, sandbox_is_compiled

    if not sandbox_is_compiled() and not args.json:
        print("Preparing the Python sandbox for its first run (compiling the interpreter, "
              "about 15-30 s)…", file=err)  # fmt: skip
    result = run_code(code, limits)
    if args.json:
        print(json_text(result.to_json()), file=out)
    else:
        out.write(shown(result.stdout))
        out.flush()
        err.write(shown(result.stderr))
        if result.error and (result.limit_hit or not result.stderr.strip()):
            print(shown(result.error), file=err)  # a traceback already ends with its error
    return EXIT_SANDBOX_FAILED if result.sandbox_failed else 0


def _usage_error(args: argparse.Namespace) -> str | None:
    if args.file is not None and args.code is not None:
        return "give the code or --file, not both"
    if args.file is None and args.code is None:
        return "give the code to run, or --file F ('-' for stdin)"
    return None


def _read_code(args: argparse.Namespace) -> str:
    if args.file is None:
        return str(args.code)
    if args.file == "-":
        return sys.stdin.read()
    with open(args.file, encoding="utf-8") as file:
        return file.read()

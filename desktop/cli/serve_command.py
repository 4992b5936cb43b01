"""`deepdive-lab serve [--model M.gguf] [--port P] [--host 127.0.0.1] [--api-key K]`: the
model served as an OpenAI-compatible API through the model host, as the app's switch does.
Runs until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import TextIO

from desktop.core.chat.generation import LoadSettings

KEY_ENV = "DEEPDIVE_API_KEY"


def add_serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from desktop.engine.api_server.server import DEFAULT_PORT, LOOPBACK

    serve = commands.add_parser("serve", help="serve a model as an OpenAI-compatible API")
    serve.add_argument(
        "--model",
        required=True,
        help="a .gguf file, or remote:BASE_URL#MODEL for a remote server's model",
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--host",
        default=LOOPBACK,
        help="where to listen; anything but 127.0.0.1 lets other computers use "
        "the model (set an --api-key)",
    )
    serve.add_argument(
        "--api-key",
        default=os.environ.get(KEY_ENV, ""),
        help=f"clients must send it as a Bearer token (default: ${KEY_ENV})",
    )
    serve.add_argument("--context", type=int, default=4096, help="context size in tokens")
    serve.add_argument("--threads", type=int, default=0, help="CPU threads (0: physical cores)")
    serve.add_argument("--quiet", action="store_true", help="do not log each request")


def serve_command(args: argparse.Namespace, err: TextIO = sys.stderr) -> int:
    from desktop.engine.api_server import ApiServer, ServerError, SessionRunner
    from desktop.engine.api_server.jobs import served_id
    from desktop.engine.api_server.server import is_loopback
    from desktop.engine.host_session import HostSession, SessionError

    def say(line: str) -> None:
        print(line, file=err, flush=True)

    session = HostSession()
    runner = SessionRunner(session, threads=args.threads)
    server: ApiServer | None = None
    try:
        settings = LoadSettings(context_size=args.context, threads=args.threads)
        model = runner.submit(lambda s, _t: s.load(args.model, settings, on_warning=say)).result()
        server = ApiServer(
            runner,
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            allow_network=True,  # --host is the person's explicit choice
            log=(lambda _l: None) if args.quiet else say,
        )
        server.start()
    except (SessionError, ServerError) as exc:
        say(f"error: {exc}")
        runner.close()
        session.close()
        return 2
    if not is_loopback(args.host):
        say(
            f"warning: listening on {args.host}: other computers can use this model"
            + ("" if args.api_key else ", and no API key is set")
        )
    say(
        f"Serving {served_id(model)} on {server.url} (GET /models, POST /chat/completions, "
        "POST /completions). Ctrl-C stops."
    )
    finished = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: finished.set())
    try:
        finished.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        runner.close()
        session.close()
    return 0

"""`deepdive-lab tokens --tokenizer NAME_OR_GGUF "text" [--json]`: ids and token pieces.

A piece that is not valid UTF-8 on its own (part of an emoji) is printed as its bytes,
`‹F0 9F›`. `--json` prints one object: tokenizer, ids, pieces, and each piece's bytes
in hex. Exit codes: 0 done, 1 the tokenizer is unknown or not available offline, 2 the
GGUF file is broken.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from desktop.core.tokens.display import piece_text
from desktop.core.tokens.tokenized import Tokenized

EXIT_UNAVAILABLE = 1
EXIT_BROKEN_FILE = 2


def add_tokens_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tokens = commands.add_parser("tokens", help="see text the way a model sees it")
    tokens.add_argument("text", nargs="?", default=None, help="the text (default: stdin)")
    tokens.add_argument(
        "--tokenizer", default="cl100k_base", help="a tiktoken encoding or a .gguf file"
    )
    tokens.add_argument(
        "--special", action="store_true", help="text like <|endoftext|> becomes control tokens"
    )
    tokens.add_argument(
        "--download", action="store_true", help="fetch a tiktoken file not cached yet"
    )
    tokens.add_argument("--list", action="store_true", help="list the tiktoken encodings")
    tokens.add_argument("--json", action="store_true", help="print one JSON object")


def tokens_command(args: argparse.Namespace, out: TextIO = sys.stdout,
                   err: TextIO = sys.stderr) -> int:  # fmt: skip
    if args.list:
        return _list(out)
    text = args.text if args.text is not None else sys.stdin.read()
    if args.tokenizer.lower().endswith(".gguf") or Path(args.tokenizer).is_file():
        return _gguf(args, text, out, err)
    from desktop.core.tokens.tiktoken_source import (
        NeedsDownload,
        encoding_names,
        load_encoding,
        why_unavailable,
    )
    from desktop.core.tokens.tiktoken_tokenizer import TiktokenTokenizer

    try:
        tokenizer = TiktokenTokenizer(load_encoding(args.tokenizer, allow_download=args.download))
    except NeedsDownload as exc:
        unavailable = why_unavailable(args.tokenizer, exc)
        print(f"error: {args.tokenizer} is not available offline: {unavailable.reason}; "
              f"{unavailable.fix}", file=err)  # fmt: skip
        return EXIT_UNAVAILABLE
    except Exception as exc:  # an unknown name, a failed download, a damaged cache file
        known = args.tokenizer in encoding_names()
        reason = f"{type(exc).__name__}: {exc}" if known else "unknown tokenizer (try --list)"
        print(f"error: {args.tokenizer}: {reason}", file=err)
        return EXIT_UNAVAILABLE
    _print(tokenizer.name, tokenizer.tokenize(text, parse_special=args.special), args.json, out)
    return 0


def _gguf(args: argparse.Namespace, text: str, out: TextIO, err: TextIO) -> int:
    from desktop.engine.gguf_tokenizer import GGUFTokenizer
    from desktop.engine.host_session import SessionError

    tokenizer = GGUFTokenizer()
    try:
        tokenizer.open(args.tokenizer)
        tokenized = tokenizer.tokenize(text, parse_special=args.special)
    except SessionError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BROKEN_FILE
    finally:
        tokenizer.close()
    _print(Path(args.tokenizer).name, tokenized, args.json, out)
    return 0


def _print(name: str, tokenized: Tokenized, as_json: bool, out: TextIO) -> None:
    pieces = tokenized.pieces()
    shown = [piece_text(p) for p in pieces]
    if as_json:
        print(json.dumps({"tokenizer": name, "ids": list(tokenized.ids), "pieces": shown,
                          "bytes": [p.hex() for p in pieces], "count": len(pieces)},
                         ensure_ascii=False), file=out)  # fmt: skip
        return
    for token_id, piece in zip(tokenized.ids, shown, strict=True):
        quoted = piece if piece.startswith("‹") else repr(piece)
        print(f"{token_id:>8}  {quoted}", file=out)
    print(f"{len(pieces)} tokens ({name})", file=out)


def _list(out: TextIO) -> int:
    from desktop.core.tokens.tiktoken_source import encoding_names, missing_file, why_unavailable

    for name in encoding_names():
        missing = missing_file(name)
        state = f"not downloaded: {why_unavailable(name, missing).reason}" if missing else "ready"
        print(f"{name:<22} {state}", file=out)
    return 0

"""`deepdive-lab models search|files|download|list`: the Models tab on the command line.

Results go to stdout (a table, or JSON with --json); progress and errors go to stderr,
so `--json` output can be piped. Exit codes: 0 done, 1 the Hub or a file said no, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from desktop.cli.output import json_text, shown
from desktop.core.formatting import format_bytes
from desktop.core.hub.hub_errors import HubError
from desktop.core.job_state import CancelToken

EXIT_FAILED = 1
EXIT_USAGE = 2


def add_models_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    models = commands.add_parser("models", help="find, download and list GGUF models")
    sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    search = sub.add_parser("search", help="search the Hub for GGUF repositories")
    search.add_argument("query", nargs="?", default="")
    search.add_argument("--sort", choices=["downloads", "likes", "last_modified"],
                        default="downloads")  # fmt: skip
    search.add_argument("--limit", type=int, default=20)
    files = sub.add_parser("files", help="a repository's GGUF files and how they fit here")
    files.add_argument("repo")
    files.add_argument("--context", type=int, default=4096, help="context length for the fit")
    download = sub.add_parser("download", help="download one GGUF model (checked by sha256)")
    download.add_argument("repo")
    download.add_argument("file", help="the .gguf file (a split model: any of its parts)")
    download.add_argument("--folder", help="where to put it (default: the download folder)")
    sub.add_parser("list", help="the local model library")
    for parser in (search, files, download, sub.choices["list"]):
        parser.add_argument("--json", action="store_true", help="machine-readable output")


def models_command(args: argparse.Namespace, out: TextIO = sys.stdout,
                   err: TextIO = sys.stderr) -> int:  # fmt: skip
    try:
        if args.models_command == "search":
            return _search(args, out)
        if args.models_command == "files":
            return _files(args, out)
        if args.models_command == "download":
            return _download(args, out, err)
        return _list(args, out)
    except HubError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_FAILED
    except OSError as exc:  # the file system said no: a read-only folder, a full disk…
        where = f": {shown(str(exc.filename))}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=err)
        return EXIT_FAILED


def _search(args: argparse.Namespace, out: TextIO) -> int:
    from desktop.core.hub.catalogue import search_models

    found = search_models(args.query, sort=args.sort, limit=args.limit)
    if args.json:
        rows = [{"repo": r.repo_id, "downloads": r.downloads, "likes": r.likes,
                 "last_modified": r.last_modified.isoformat() if r.last_modified else None,
                 "gated": r.gated} for r in found]  # fmt: skip
        print(json.dumps(rows), file=out)
        return 0
    for r in found:
        updated = r.last_modified.date().isoformat() if r.last_modified else "?"
        gated = "  gated" if r.gated else ""
        print(f"{r.repo_id:<60} {r.downloads:>10,} ↓ {r.likes:>6,} ♥  {updated}{gated}", file=out)
    if not found:
        print("no GGUF repositories found", file=out)
    return 0


def _files(args: argparse.Namespace, out: TextIO) -> int:
    from desktop.core.hub.catalogue import list_gguf_models
    from desktop.core.hub.fit import rate_models
    from desktop.core.models.system_memory import available_memory_bytes

    listing = list_gguf_models(args.repo)
    rated = rate_models(listing.models, args.context, available_memory_bytes())
    if args.json:
        rows = [{"file": m.name, "parts": [p.path for p in m.parts], "size": m.size,
                 "quantization": m.quantization, "sha256": [p.sha256 for p in m.parts],
                 "fit": fit.verdict if fit else None, "needed": fit.needed if fit else None,
                 "recommended": m.recommended} for m, fit in rated]  # fmt: skip
        print(json.dumps({"repo": listing.repo_id, "gated": listing.gated, "files": rows}),
              file=out)  # fmt: skip
        return 0
    for m, fit in rated:
        mark = "★" if m.recommended else " "
        split = f" ({len(m.parts)} parts)" if m.is_split else ""
        verdict = fit.verdict if fit else "?"
        print(f"{mark} {m.name:<56} {m.quantization or '?':<8} {format_bytes(m.size):>9}  "
              f"{verdict}{split}", file=out)  # fmt: skip
    if not rated:
        print(f"{args.repo} has no GGUF files", file=out)
    return 0


def _download(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from desktop.core.hub.catalogue import list_gguf_models
    from desktop.core.hub.download import DownloadTarget, download_files
    from desktop.core.models.library_folders import MissingFolderError, download_folder

    listing = list_gguf_models(args.repo)
    model = next((m for m in listing.models if args.file in (p.path for p in m.parts)), None)
    if model is None:
        print(f"error: {args.repo} has no GGUF file {args.file!r}", file=err)
        return EXIT_FAILED
    try:
        folder = Path(args.folder).expanduser() if args.folder else download_folder()
    except MissingFolderError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_FAILED
    targets = [DownloadTarget(listing.repo_id, listing.revision, p) for p in model.parts]
    control = _StderrProgress(err)
    started = time.monotonic()
    try:
        paths = download_files(targets, folder, control)
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=err)
        return EXIT_FAILED
    seconds = time.monotonic() - started
    print(file=err)
    if args.json:
        print(json.dumps({"path": str(paths[0]), "parts": [str(p) for p in paths],
                          "size": model.size, "sha256": [p.sha256 for p in model.parts],
                          "seconds": round(seconds, 3)}), file=out)  # fmt: skip
    else:
        print(paths[0], file=out)
    return 0


class _StderrProgress(CancelToken):
    """The download's job state, with progress on one rewritten stderr line, at most ten
    times a second."""

    def __init__(self, err: TextIO) -> None:
        super().__init__()
        self.err = err
        self.started = time.monotonic()
        self.last = 0.0

    def status(self, text: str) -> None:
        if not text.endswith("…") or "Retrying" in text:
            print(f"\n{text}", file=self.err)

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        speed = done / max(now - self.started, 1e-6)
        share = done / total * 100 if total else 100.0
        print(f"\r{share:5.1f}%  {format_bytes(done)} / {format_bytes(total)}  "
              f"{format_bytes(int(speed))}/s   ", end="", file=self.err, flush=True)  # fmt: skip


def _list(args: argparse.Namespace, out: TextIO) -> int:
    from desktop.core.models.library import scan_library
    from desktop.core.models.library_folders import library_folders

    entries = scan_library(library_folders())
    if args.json:
        rows = [{"path": str(e.path), "size": e.size, "error": e.error,
                 "info": e.info.to_dict() if e.info else None} for e in entries]  # fmt: skip
        print(json_text(rows), file=out)
        return 0
    for e in entries:
        if e.info:
            i = e.info
            print(f"{shown(e.relative):<60} {i.architecture or '?':<8} {i.quantization:<8} "
                  f"{format_bytes(e.size):>9}", file=out)  # fmt: skip
        else:
            print(f"{shown(e.relative):<60} BROKEN: {shown(e.error or '')}", file=out)
    if not entries:
        print("the library is empty: try `deepdive-lab models search`", file=out)
    return 0

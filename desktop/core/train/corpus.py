"""Training text: the user's own files, or a default corpus that needs no download —
the documentation of Python's standard library (module, class and function docstrings),
read from the library's source files with `ast` (nothing is imported or run), built on
first use and cached in the data folder."""

from __future__ import annotations

import ast
import sys
import sysconfig
from collections.abc import Callable, Iterable
from pathlib import Path

from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.storage.paths import data_dir

SKIP_FOLDERS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "turtledemo", "__pycache__"}
MIN_DOCSTRING = 40  # characters: one-word docstrings teach nothing


def stdlib_corpus_path() -> Path:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return data_dir() / "corpora" / f"python{version}-stdlib-docs.txt"


def stdlib_corpus(progress: Callable[[int, int], None] | None = None) -> str:
    """The corpus text, built and cached on first use (a few seconds)."""
    path = stdlib_corpus_path()
    if path.exists():
        return path.read_text(encoding="utf-8")
    text = build_stdlib_corpus(progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, text)
    return text


def build_stdlib_corpus(progress: Callable[[int, int], None] | None = None) -> str:
    files = sorted(_stdlib_sources())
    parts: list[str] = []
    for n, source in enumerate(files, 1):
        parts.extend(_docstrings(source))
        if progress is not None:
            progress(n, len(files))
    if not parts:  # a frozen app ships no .py sources: use what is importable already
        parts = [str(m.__doc__) for m in list(sys.modules.values()) if getattr(m, "__doc__", None)]
    return "\n\n".join(p.strip() for p in parts if p and len(p.strip()) >= MIN_DOCSTRING) + "\n"


def _stdlib_sources() -> Iterable[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    if not root.is_dir():
        return []
    return (p for p in root.rglob("*.py") if not SKIP_FOLDERS & set(p.relative_to(root).parts[:-1]))


def _docstrings(source: Path) -> list[str]:
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, _DOCUMENTED))]
    return [doc for node in nodes if (doc := ast.get_docstring(node))]


_DOCUMENTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def read_corpus_files(paths: Iterable[Path]) -> str:
    """The user's text files, joined; undecodable bytes become U+FFFD rather than fail."""
    return "\n\n".join(Path(p).read_text(encoding="utf-8", errors="replace") for p in paths)


STDLIB = "stdlib"


def load_corpus(spec: str) -> str:
    """`stdlib` (the built-in corpus) or the path of a text file. A file that cannot be
    read is a ValueError whose text is a sentence (not "[Errno 2] …")."""
    if spec == STDLIB:
        return stdlib_corpus()
    path = Path(spec)
    try:
        return read_corpus_files([path])
    except FileNotFoundError:
        raise ValueError(f"There is no corpus file {path}: check the path.") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder: give a text file as the corpus.") from None
    except PermissionError:
        raise ValueError(f"{path} cannot be read (no permission).") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read: {exc.strerror or exc}.") from None


def new_run_folder() -> Path:
    """A folder of its own for a training run: created here, so two runs never share one."""
    import secrets
    import time

    runs = data_dir() / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    while True:
        folder = runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue

"""Whatever is in the models folder, one bad entry is one broken row (or is skipped): never
a traceback, never a hang, never an empty library hiding the good models."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.cli import build_parser
from desktop.cli.inspect_command import inspect_command
from desktop.cli.models_command import models_command
from desktop.core.models.gguf_check import check_gguf
from desktop.core.models.library import model_files, scan_library


def _loop(folder: Path) -> None:
    (folder / "loop.gguf").symlink_to("loop.gguf")


def _loop_of_two(folder: Path) -> None:
    (folder / "a.gguf").symlink_to("b.gguf")
    (folder / "b.gguf").symlink_to("a.gguf")


def _dangling(folder: Path) -> None:
    (folder / "dangling.gguf").symlink_to(folder / "gone" / "model.gguf")


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "fifo.gguf")


def _folder_named_gguf(folder: Path) -> None:
    (folder / "folder.gguf").mkdir()


def _folder_loop(folder: Path) -> None:
    (folder / "d").mkdir()
    (folder / "d" / "up").symlink_to("..")  # d/up/d/up/... for ever, if followed
    (folder / "d" / "again.gguf").symlink_to("..")  # a link to a folder, named like a model


# name -> (how to make it, the rows it gives: relative path -> words of its reason)
BAD_ENTRIES: dict[str, tuple[Callable[[Path], None], dict[str, str]]] = {
    "self-referencing symlink": (_loop, {"loop.gguf": "goes round in a loop"}),
    "symlink loop of two": (
        _loop_of_two,
        {"a.gguf": "goes round in a loop", "b.gguf": "goes round in a loop"},
    ),
    "dangling symlink": (_dangling, {"dangling.gguf": "link to a file that does not exist"}),
    "FIFO named .gguf": (_fifo, {"fifo.gguf": "is not a regular file"}),
    "folder named x.gguf": (_folder_named_gguf, {}),
    "symlink loop of folders": (_folder_loop, {}),
}


@pytest.mark.parametrize("kind", BAD_ENTRIES)
def test_one_bad_entry_never_hides_the_good_models(
    tmp_path: Path, tiny_gguf: Path, kind: str
) -> None:
    make, expected = BAD_ENTRIES[kind]
    shutil.copy(tiny_gguf, tmp_path / "good.gguf")
    make(tmp_path)
    entries = {e.relative: e for e in scan_library([tmp_path])}
    assert set(entries) == {"good.gguf", *expected}
    assert entries["good.gguf"].info is not None and entries["good.gguf"].error is None
    for name, words in expected.items():
        assert entries[name].info is None
        assert entries[name].error is not None and words in entries[name].error
        assert entries[name].error.startswith(name)  # the sentence says which file
    assert {p.name for p in model_files([tmp_path])} == {"good.gguf", *expected}


def test_a_file_without_read_permission_is_one_broken_row(
    tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(tiny_gguf, tmp_path / "good.gguf")
    locked = tmp_path / "locked.gguf"
    shutil.copy(tiny_gguf, locked)
    locked.chmod(0)
    real_open = os.open

    def no_permission(path: object, flags: int, mode: int = 0o777) -> int:
        if Path(os.fsdecode(path)) == locked:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    if os.geteuid() == 0:  # root reads anything: refuse the way the kernel refuses a user
        monkeypatch.setattr(os, "open", no_permission)
    entries = {e.relative: e for e in scan_library([tmp_path])}
    assert entries["good.gguf"].info is not None
    assert entries["locked.gguf"].error == "cannot read locked.gguf: Permission denied"


def test_a_fifo_is_a_broken_row_not_a_hang(tmp_path: Path) -> None:
    """A plain open() of a FIFO blocks until a writer comes; the check must not (were it
    to block, this test would hang rather than fail: there is no writer)."""
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    result = check_gguf(fifo)
    assert not result.ok and result.errors == [
        "pipe.gguf is not a regular file (a pipe or a device?)"
    ]


def test_a_very_deep_folder_tree_is_no_recursion_error(tmp_path: Path, tiny_gguf: Path) -> None:
    folders = [tmp_path / "deep"]
    for _ in range(1200):  # deeper than Python's recursion limit (os.walk recurses in 3.11)
        folders.append(folders[-1] / "d")
    for folder in folders:
        folder.mkdir()
    shutil.copy(tiny_gguf, folders[-1] / "deep.gguf")
    shutil.copy(tiny_gguf, tmp_path / "good.gguf")
    try:
        assert sorted(e.path.name for e in scan_library([tmp_path])) == ["deep.gguf", "good.gguf"]
    finally:  # shutil.rmtree (pytest's clean-up) recurses too
        (folders[-1] / "deep.gguf").unlink()
        for folder in reversed(folders):
            folder.rmdir()


def test_a_link_to_a_model_is_listed_once(tmp_path: Path, tiny_gguf: Path) -> None:
    shutil.copy(tiny_gguf, tmp_path / "good.gguf")
    (tmp_path / "alias.gguf").symlink_to("good.gguf")
    assert len(scan_library([tmp_path])) == 1 and len(model_files([tmp_path])) == 1


# --- the command line: `models list` and `inspect` ---


@pytest.fixture
def hostile_home(tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder whose models folder holds a good model and every bad entry above."""
    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    shutil.copy(tiny_gguf, models / "good.gguf")
    for make, _ in BAD_ENTRIES.values():
        make(models)
    (models / os.fsdecode(b"\xff\xfe-not-utf8.gguf")).write_bytes(b"GGUF")
    monkeypatch.setenv("DEEPDIVE_HOME", str(tmp_path / "home"))
    return models


def models_list(*flags: str) -> tuple[int, bytes, str]:
    """`models list` printing to a strict UTF-8 stdout, as in a UTF-8 desktop session."""
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict")
    code = models_command(build_parser().parse_args(["models", "list", *flags]), stdout, err)
    stdout.flush()
    return code, out.getvalue(), err.getvalue()


def test_models_list_json_lists_good_and_broken(hostile_home: Path) -> None:
    code, out, err = models_list("--json")
    assert (code, err) == (0, "")
    rows = {os.fsencode(Path(r["path"]).name): r for r in json.loads(out.decode("utf-8"))}
    assert rows[b"good.gguf"]["info"]["architecture"] == "llama"
    assert "goes round in a loop" in rows[b"loop.gguf"]["error"]
    assert "not a regular file" in rows[b"fifo.gguf"]["error"]
    # A name that is not UTF-8 comes back exactly (json + os.fsencode), and is broken.
    assert "too short for a GGUF header" in rows[b"\xff\xfe-not-utf8.gguf"]["error"]


def test_models_list_text_never_fails_to_print(hostile_home: Path) -> None:
    code, data, err = models_list()
    assert (code, err) == (0, "")
    out = data.decode("utf-8")
    assert "good.gguf" in out and "loop.gguf" in out and "BROKEN: loop.gguf is a link" in out
    assert "\ufffd\ufffd-not-utf8.gguf" in out  # shown with replacement characters


def test_inspect_a_symlink_loop_is_one_line(tmp_path: Path) -> None:
    _loop(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert inspect_command(str(tmp_path / "loop.gguf"), True, out, err) == 2
    out, err = out.getvalue(), err.getvalue()
    assert out == ""
    assert err == "error: loop.gguf is a link that goes round in a loop and never reaches a file\n"

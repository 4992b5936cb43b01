from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop.core.storage.atomic_files import replacing, write_text_atomically


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as temporary:
        temporary.write_text("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.gguf"]


def test_success_replaces_with_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "export.jsonl"
    write_text_atomically(target, "line\n")
    assert target.read_text() == "line\n"
    mode = stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # not mkstemp's 0600


def test_the_temporary_is_hidden_and_marked_partial(tmp_path: Path) -> None:
    with replacing(tmp_path / "m.gguf") as temporary:
        assert temporary.parent == tmp_path
        assert temporary.name.startswith(".m.gguf.") and temporary.name.endswith(".partial")
        temporary.write_bytes(b"GGUF")

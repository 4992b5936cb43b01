"""The local library: what is listed, what it says, and what it refuses to show."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest

from desktop.core.models.gguf_header import GGUFError
from desktop.core.models.gguf_writer import expected_tensor_shapes
from desktop.core.models.library import delete_entry, import_gguf, model_files, scan_library
from tests.gguf_fixtures import TINY_SHAPE


def test_metadata_of_fixture_models(tmp_path: Path, tiny_gguf: Path, tiny_base_gguf) -> None:
    shutil.copy(tiny_gguf, tmp_path / "chat.gguf")
    (tmp_path / "org" / "repo").mkdir(parents=True)
    shutil.copy(tiny_base_gguf, tmp_path / "org" / "repo" / "base.gguf")
    entries = {e.relative: e for e in scan_library([tmp_path])}
    assert set(entries) == {"chat.gguf", "org/repo/base.gguf"}
    chat = entries["chat.gguf"].info
    assert chat is not None
    expected = sum(math.prod(s) for s in expected_tensor_shapes(TINY_SHAPE).values())
    assert chat.parameter_count == expected  # exact, from the tensor list
    assert chat.architecture == "llama" and chat.quantization == "F32"
    assert chat.context_length == TINY_SHAPE.context_length
    assert chat.has_chat_template and chat.tokenizer_model == "gpt2"
    base = entries["org/repo/base.gguf"].info
    assert base is not None and not base.has_chat_template
    assert entries["chat.gguf"].size == tiny_gguf.stat().st_size


def test_broken_files_are_listed_with_the_reason(tmp_path: Path, broken_ggufs) -> None:
    shutil.copy(broken_ggufs("mid_tensor_data"), tmp_path / "cut.gguf")
    shutil.copy(broken_ggufs("empty"), tmp_path / "empty.gguf")
    entries = {e.relative: e for e in scan_library([tmp_path])}
    assert entries["cut.gguf"].info is None and "truncated" in (entries["cut.gguf"].error or "")
    assert "empty" in (entries["empty.gguf"].error or "")


def test_unfinished_files_never_look_like_models(tmp_path: Path, tiny_gguf: Path) -> None:
    (tmp_path / ".downloads" / "org" / "repo").mkdir(parents=True)
    shutil.copy(tiny_gguf, tmp_path / ".downloads" / "org" / "repo" / "m.gguf")
    shutil.copy(tiny_gguf, tmp_path / ".m.gguf.abc123.partial")
    shutil.copy(tiny_gguf, tmp_path / ".hidden.gguf")
    (tmp_path / "m.gguf.part").write_bytes(b"GGUF")
    assert scan_library([tmp_path]) == []
    assert model_files([tmp_path]) == []


def test_split_model_is_one_entry_and_deleted_whole(tmp_path: Path, tiny_gguf: Path) -> None:
    folder = tmp_path / "org" / "big"
    folder.mkdir(parents=True)
    first = folder / "big-Q8_0-00001-of-00002.gguf"
    shutil.copy(tiny_gguf, first)  # a real header, so the entry reads
    (folder / "big-Q8_0-00002-of-00002.gguf").write_bytes(b"x" * 100)
    shutil.copy(tiny_gguf, folder / "lonely-00001-of-00003.gguf")
    entries = {e.path.name: e for e in scan_library([tmp_path])}
    assert set(entries) == {first.name, "lonely-00001-of-00003.gguf"}
    assert entries[first.name].size == tiny_gguf.stat().st_size + 100
    assert "missing 2 of its 3 parts" in (entries["lonely-00001-of-00003.gguf"].error or "")
    delete_entry(entries[first.name])
    assert not first.exists() and not (folder / "big-Q8_0-00002-of-00002.gguf").exists()
    assert folder.exists()  # another model still lives there
    delete_entry(entries["lonely-00001-of-00003.gguf"])
    assert not (tmp_path / "org").exists()  # emptied folders go, the library folder stays
    assert tmp_path.exists()


def test_several_folders_and_no_duplicates(tmp_path: Path, tiny_gguf: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "a" / "b"
    b.mkdir(parents=True)
    shutil.copy(tiny_gguf, a / "one.gguf")
    shutil.copy(tiny_gguf, b / "two.gguf")
    entries = scan_library([a, b, tmp_path / "missing"])
    assert sorted(e.path.name for e in entries) == ["one.gguf", "two.gguf"]


def test_import_copies_checked_files_whole(tmp_path: Path, tiny_gguf: Path, broken_ggufs) -> None:
    library = tmp_path / "lib"
    seen: list[tuple[int, int]] = []
    imported = import_gguf(tiny_gguf, library, lambda d, t: seen.append((d, t)))
    assert imported.read_bytes() == tiny_gguf.read_bytes()
    assert seen[-1] == (tiny_gguf.stat().st_size,) * 2
    with pytest.raises(FileExistsError):
        import_gguf(tiny_gguf, library)
    with pytest.raises(GGUFError):
        import_gguf(broken_ggufs("wrong_magic"), library)
    other = tmp_path / "other.gguf"
    shutil.copy(tiny_gguf, other)
    with pytest.raises(InterruptedError):
        import_gguf(other, library, cancelled=lambda: True)
    assert sorted(os.listdir(library / "imported")) == [tiny_gguf.name]  # nothing half-copied

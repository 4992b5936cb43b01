"""Read a GGUF file's header (metadata and tensor list) without trusting it.

The header is parsed by hand instead of with gguf.GGUFReader: a downloaded file can be
truncated or hostile, and GGUFReader memory-maps it and fails with arbitrary exceptions.
Every count and length is checked against hard limits *and* the bytes left in the file
before anything is read, so a header claiming a 10^18-byte string costs nothing.
`model_info` turns the header into the figures the app shows; `gguf_check` checks it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_STRING = 16 * 1024 * 1024
MAX_ARRAY = 10_000_000
MAX_KV = 100_000
MAX_TENSORS = 100_000
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_KEPT_BYTES = 64 * 1024 * 1024  # strings held in memory; skipped array items don't count
KEEP_ARRAY_ITEMS = 256  # bigger arrays (vocabularies) keep only their length
DEFAULT_ALIGNMENT = 32
# GGUF value type -> struct code; 8 is string, 9 is array
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9

Scalar = int | float | bool | str


class GGUFError(ValueError):
    """A file llama.cpp must not be given; the message is one sentence for a person."""


@dataclass(frozen=True)
class ArrayValue:
    item_type: int
    length: int
    items: tuple[Scalar, ...] | None  # None when longer than KEEP_ARRAY_ITEMS


MetaValue = Scalar | ArrayValue


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]  # GGUF order: dims[0] is the row length
    ggml_type: int
    offset: int  # from the start of the tensor data section

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def nbytes(self) -> int | None:
        """Size on disk, or None for a ggml type this version of gguf does not know."""
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

        try:
            block, size = GGML_QUANT_SIZES[GGMLQuantizationType(self.ggml_type)]
        except (ValueError, KeyError):
            return None
        return self.n_elements // block * size


@dataclass(frozen=True)
class GGUFHeader:
    version: int
    metadata: dict[str, MetaValue]
    tensors: tuple[TensorInfo, ...]
    alignment: int
    data_offset: int  # where tensor data starts (after padding to `alignment`)
    file_size: int


class _Reader:
    """Bounds-checked little-endian reads; `section` names what a truncation cut into."""

    def __init__(self, f: BinaryIO, name: str, size: int, deadline: float) -> None:
        self.f, self.name, self.size, self.deadline = f, name, size, deadline
        self.pos = 0
        self.kept = 0
        self.section = "header"

    def need(self, n: int) -> None:
        if self.pos + n > self.size:
            raise GGUFError(
                f"{self.name} is truncated: {self.section} ends past the end of the file"
            )
        if time.monotonic() > self.deadline:
            raise GGUFError(f"{self.name} has a header too large to read in time")

    def take(self, n: int) -> bytes:
        self.need(n)
        self.pos += n
        return self.f.read(n)

    def skip(self, n: int) -> None:
        self.need(n)
        self.pos += n
        self.f.seek(n, 1)

    def scalar(self, code: str) -> int | float | bool:
        value: int | float | bool = struct.unpack("<" + code, self.take(struct.calcsize(code)))[0]
        return value

    def count(self, limit: int, what: str) -> int:
        n = int(self.scalar("Q"))
        if n > limit:
            raise GGUFError(f"{self.name} claims {n:,} {what} (limit {limit:,}): file is corrupt")
        return n

    def string(self) -> str:
        n = self.count(MAX_STRING, "bytes in one string")
        self.kept += n
        if self.kept > MAX_KEPT_BYTES:
            raise GGUFError(f"{self.name} has more metadata text than any real model")
        return self.take(n).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        self.skip(self.count(MAX_STRING, "bytes in one string"))

    def value(self, vtype: int, key: str) -> MetaValue:
        return self.array(key) if vtype == _ARRAY else self.item(vtype, key)

    def item(self, vtype: int, key: str) -> Scalar:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        raise GGUFError(f"{self.name} has an unknown value type {vtype} for {key!r}")

    def array(self, key: str) -> ArrayValue:
        item_type = int(self.scalar("I"))
        length = self.count(MAX_ARRAY, f"items in {key!r}")
        if item_type not in _SCALARS and item_type != _STRING:  # llama.cpp rejects nesting too
            raise GGUFError(f"{self.name} has an unsupported array type for {key!r}")
        if length <= KEEP_ARRAY_ITEMS:
            items = tuple(self.item(item_type, key) for _ in range(length))
            return ArrayValue(item_type, length, items)
        if item_type != _STRING:
            self.skip(length * struct.calcsize(_SCALARS[item_type]))
        else:
            for _ in range(length):
                self.skip_string()
        return ArrayValue(item_type, length, None)


def read_gguf_header(path: str | Path, *, time_limit: float = 2.0) -> GGUFHeader:
    """Parse magic, version, metadata and the tensor list; raise GGUFError if unusable."""
    p = Path(path)
    try:
        with _open_regular_file(p) as (f, size):
            return parse_gguf_header(f, p.name, size, time_limit=time_limit)
    except FileNotFoundError:
        if p.is_symlink():
            raise GGUFError(f"{p.name} is a link to a file that does not exist") from None
        raise GGUFError(f"{p} does not exist") from None
    except struct.error:  # the file shrank while we read it
        raise GGUFError(f"{p.name} is truncated: it changed while being read") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise GGUFError(
                f"{p.name} is a link that goes round in a loop and never reaches a file"
            ) from None
        raise GGUFError(f"cannot read {p.name}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _open_regular_file(p: Path) -> Iterator[tuple[BinaryIO, int]]:
    """Open without blocking, then look at what was opened: a FIFO named `x.gguf` would block
    a plain open() forever, and checking the name first leaves a window to swap the file."""
    if p.is_dir():
        raise GGUFError(f"{p.name} is a folder, not a model file")
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise GGUFError(f"{p.name} is a folder, not a model file")
        if not stat.S_ISREG(st.st_mode):  # a FIFO, socket or device would block or never end
            raise GGUFError(f"{p.name} is not a regular file (a pipe or a device?)")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        yield f, st.st_size


def parse_gguf_header(f: BinaryIO, name: str, size: int, *, time_limit: float = 2.0) -> GGUFHeader:
    """The header of a GGUF read from any seekable stream (a file, or a remote file read
    with HTTP Range requests); `size` is the whole file's length."""
    return _parse(_Reader(f, name, size, time.monotonic() + time_limit))


def _parse(r: _Reader) -> GGUFHeader:
    if r.size == 0:
        raise GGUFError(f"{r.name} is empty (0 bytes)")
    magic = r.f.read(4)
    if len(magic) < 4 and b"GGUF".startswith(magic):
        raise GGUFError(f"{r.name} is truncated: only {r.size} bytes, too short for a GGUF header")
    if magic != b"GGUF":
        raise GGUFError(f"{r.name} is not a GGUF file (starts with {magic!r})")
    if r.size < 24:
        raise GGUFError(f"{r.name} is truncated: only {r.size} bytes, too short for a GGUF header")
    r.pos = 4
    version = int(r.scalar("I"))
    if version not in (2, 3):
        raise GGUFError(_version_message(r.name, version))
    n_tensors = r.count(MAX_TENSORS, "tensors")
    n_kv = r.count(MAX_KV, "metadata entries")
    r.section = "metadata"
    metadata: dict[str, MetaValue] = {}
    for _ in range(n_kv):
        key = r.string()
        if key in metadata:
            raise GGUFError(f"{r.name} has the metadata key {key!r} twice")
        metadata[key] = r.value(int(r.scalar("I")), key)
    r.section = "tensor list"
    tensors = [_tensor_info(r) for _ in range(n_tensors)]
    if len({t.name for t in tensors}) != len(tensors):
        raise GGUFError(f"{r.name} has two tensors with the same name")
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if type(alignment) is not int or alignment <= 0 or alignment & (alignment - 1):
        raise GGUFError(f"{r.name} has an invalid general.alignment ({alignment!r})")
    data_offset = -(-r.pos // alignment) * alignment
    return GGUFHeader(version, metadata, tuple(tensors), alignment, data_offset, r.size)


def _tensor_info(r: _Reader) -> TensorInfo:
    name = r.string()
    n_dims = int(r.scalar("I"))
    if n_dims > MAX_DIMS:
        raise GGUFError(f"{r.name}: tensor {name!r} has {n_dims} dimensions (at most {MAX_DIMS})")
    dims = tuple(int(r.scalar("Q")) for _ in range(n_dims))
    total = 1
    for d in dims:
        total *= d
    if total >= 2**62:
        raise GGUFError(f"{r.name}: tensor {name!r} claims an impossible size {dims}")
    ggml_type = int(r.scalar("I"))
    return TensorInfo(name, dims, ggml_type, int(r.scalar("Q")))


def _version_message(name: str, version: int) -> str:
    if version == 1:
        return f"{name} uses GGUF version 1, which llama.cpp no longer reads"
    if version & 0xFFFF == 0 and (version >> 24) in (2, 3):
        return f"{name} is a big-endian GGUF file; this computer needs little-endian"
    return f"{name} has an unsupported GGUF version ({version})"

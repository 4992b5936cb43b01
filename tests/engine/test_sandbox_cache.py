"""The compiled-interpreter cache, on a tiny WebAssembly module (compiling the real
interpreter takes 15-25 s; what is tested here does not depend on its size)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import wasmtime

from desktop.core.sandbox.runtime_files import SandboxUnavailable
from desktop.engine.sandbox.wasm_python import load_module, make_engine

WAT = '(module (func (export "answer") (result i32) i32.const 42))'


@pytest.fixture
def wasm(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "tiny.wasm"
    path.write_bytes(wasmtime.wat2wasm(WAT))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def answer(module: wasmtime.Module, engine: wasmtime.Engine) -> object:
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(1)
    func = wasmtime.Instance(store, module, []).exports(store)["answer"]
    assert isinstance(func, wasmtime.Func)
    return func(store)


def test_compiled_once_then_loaded_from_the_cache(tmp_path: Path, wasm: tuple[Path, str]) -> None:
    path, digest = wasm
    engine = make_engine()
    cached = tmp_path / "cache" / "tiny.cwasm"
    cached.parent.mkdir()
    compiles: list[int] = []
    module = load_module(engine, path, digest, cached, on_compile=lambda: compiles.append(1))
    assert answer(module, engine) == 42 and compiles == [1] and cached.is_file()
    path.write_bytes(b"damaged after the compile")  # no longer read at all
    again = load_module(engine, path, digest, cached, on_compile=lambda: compiles.append(1))
    assert answer(again, engine) == 42 and compiles == [1]
    assert [p.name for p in cached.parent.iterdir()] == ["tiny.cwasm"]  # no partial left


def test_a_damaged_cache_is_compiled_again_and_old_ones_removed(
    tmp_path: Path, wasm: tuple[Path, str]
) -> None:
    path, digest = wasm
    engine = make_engine()
    cached = tmp_path / "python-new.cwasm"
    cached.write_bytes(b"\x7fELF garbage")
    stale = tmp_path / "python-old.cwasm"
    stale.write_bytes(b"made by an older wasmtime")
    other = tmp_path / "notes.txt"
    other.write_text("not a cache")
    compiles: list[int] = []
    module = load_module(engine, path, digest, cached, on_compile=lambda: compiles.append(1))
    assert answer(module, engine) == 42 and compiles == [1]
    assert wasmtime.Module.deserialize_file(engine, str(cached)) is not None
    assert not stale.exists() and other.exists()


def test_a_wrong_interpreter_file_is_refused_not_compiled(
    tmp_path: Path, wasm: tuple[Path, str]
) -> None:
    path, _ = wasm
    cached = tmp_path / "tiny.cwasm"
    with pytest.raises(SandboxUnavailable, match="not the expected file"):
        load_module(make_engine(), path, "0" * 64, cached)
    assert not cached.exists()

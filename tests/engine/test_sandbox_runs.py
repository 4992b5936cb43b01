"""Ordinary code in the sandbox: the standard library, its own folder, what comes back
(output, errors as the model should read them), runs from a worker thread, and a sandbox
that cannot start saying why."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop.core.sandbox.result import SandboxResult
from desktop.core.sandbox.runtime_files import CACHE_ENV, WASM_ENV
from desktop.engine.sandbox.run_code import run_code, sandbox_is_compiled
from tests.sandbox_fixtures import run, sandbox

pytestmark = pytest.mark.usefixtures(sandbox.__name__)


def test_the_standard_library_is_there() -> None:
    code = """
import collections, csv, datetime, decimal, fractions, hashlib, io, itertools, json, math
import random, re, sqlite3, statistics, string, textwrap, zlib, heapq, bisect, functools
import dataclasses, enum, typing, unicodedata, calendar, difflib, base64, struct, uuid
db = sqlite3.connect(":memory:")
db.execute("create table t (x)")
db.executemany("insert into t values (?)", [(i,) for i in range(10)])
print(db.execute("select sum(x) from t").fetchone()[0])
print(statistics.mean([1, 2, 3, 4]), decimal.Decimal("0.1") + decimal.Decimal("0.2"))
print(json.dumps({"primes": [p for p in range(20) if all(p % d for d in range(2, p))][2:]}))
print(hashlib.sha256(b"abc").hexdigest()[:8], zlib.crc32(b"abc"))
print(datetime.date(2024, 2, 29) + datetime.timedelta(days=1))
"""
    result = run(code)
    assert result.ok, result
    assert result.stdout.splitlines() == [
        "45", "2.5 0.3", '{"primes": [2, 3, 5, 7, 11, 13, 17, 19]}', "ba7816bf 891568578",
        "2024-03-01",
    ]  # fmt: skip
    assert result.exit_code == 0 and result.error is None and result.limit_hit is None


def test_its_folder_is_its_current_and_temp_folder_and_fresh_each_run() -> None:
    code = """
import os, tempfile
with open("notes.txt", "w") as f:
    f.write("kept within the run")
os.makedirs("a/b")
with tempfile.NamedTemporaryFile(dir=None, delete=False) as t:
    t.write(b"temp")
print(os.getcwd(), tempfile.gettempdir(), open("/tmp/notes.txt").read(), sorted(os.listdir()))
"""
    first = run(code)
    assert first.ok, first
    cwd, temp, *rest = first.stdout.split(" ", 2)
    assert (cwd, temp) == ("/tmp", "/tmp") and rest[0].startswith("kept within the run")
    second = run("import os\nprint(os.listdir('.'))")
    assert second.stdout == "[]\n"  # nothing left from the first run


def test_output_is_utf8_and_errors_read_like_python_main_py() -> None:
    hello = run("print('héllo 😀 中文')")
    assert hello.stdout == "héllo 😀 中文\n"
    failed = run("def f(x):\n    return 1 / x\n\nprint('before')\nf(0)")
    assert not failed.ok and failed.exit_code == 1 and failed.stdout == "before\n"
    assert failed.error == "ZeroDivisionError: division by zero"
    assert 'File "main.py", line 5, in <module>' in failed.stderr
    assert "return 1 / x" in failed.stderr  # the code's own lines are shown
    assert "_sandbox_main" not in failed.stderr and "<string>" not in failed.stderr
    syntax = run("print('unclosed'")
    assert syntax.error is not None and syntax.error.startswith("SyntaxError:")
    assert run("import sys\nsys.exit(0)").ok
    assert run("import sys\nsys.exit(2)").error == "The code exited with status 2."
    assert run("print(input())").error == "EOFError: EOF when reading a line"  # no stdin


def test_the_result_as_json_has_what_the_cli_promises() -> None:
    data = run("print(1)").to_json()
    assert {"ok", "stdout", "stderr", "error", "limit_hit", "exit_code", "seconds",
            "cpu_seconds", "limits", "sandbox_failed"} <= data.keys()  # fmt: skip
    assert data["limits"]["memory_bytes"] == 256 * 1024 * 1024
    assert data["first_output_seconds"] is not None


def test_runs_from_worker_threads_at_the_same_time() -> None:
    results: dict[int, SandboxResult] = {}

    def work(n: int) -> None:
        results[n] = run_code(f"print({n} * {n})")

    threads = [threading.Thread(target=work, args=(n,)) for n in (3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[3].stdout == "9\n" and results[4].stdout == "16\n"


def test_a_damaged_interpreter_is_refused_with_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "python.wasm"
    broken.write_bytes(b"\0asm" + b"\0" * 100)
    monkeypatch.setenv(WASM_ENV, str(broken))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "empty-cache"))
    assert not sandbox_is_compiled()
    result = run_code("print('never runs')")
    assert result.sandbox_failed and not result.ok and result.stdout == ""
    assert result.error is not None
    assert "not the expected file" in result.error and "reinstall the app" in result.error

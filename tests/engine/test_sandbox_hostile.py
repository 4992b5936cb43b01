"""Hostile code in the sandbox: each attempt is contained and says so in a sentence, and
the app (this test process) and the sandbox go on working afterwards."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from desktop.core.sandbox.limits import KIB, MIB, SandboxLimits
from desktop.engine.sandbox.run_code import run_code
from tests.sandbox_fixtures import PATIENT, run, sandbox

pytestmark = pytest.mark.usefixtures(sandbox.__name__)

# Each attempt prints "blocked: <exception>" when it is refused, "GOT: …" when it is not.
ATTEMPTS = """
def attempt(what, action):
    try:
        result = action()
    except BaseException as exc:
        print("blocked:", what, type(exc).__name__)
    else:
        print("GOT:", what, repr(result)[:200])
"""


def attempts(body: str) -> str:
    return ATTEMPTS + body


def blocked(stdout: str, count: int) -> None:
    assert "GOT:" not in stdout, stdout
    assert stdout.count("blocked:") == count, stdout


def test_reading_passwd_the_home_folder_and_host_files_is_blocked(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the host's secret")
    home = Path.home()
    code = attempts(f"""
import os
attempt("passwd", lambda: open("/etc/passwd").read())
attempt("passwd via ..", lambda: open("/tmp/../etc/passwd").read())
attempt("passwd relative", lambda: open("../../../../etc/passwd").read())
attempt("home", lambda: os.listdir({str(home)!r}))
attempt("home file", lambda: open({str(home / ".bashrc")!r}).read())
attempt("host file", lambda: open({str(secret)!r}).read())
attempt("root", lambda: os.listdir("/"))
attempt("proc", lambda: open("/proc/self/environ").read())
print("home is", os.path.expanduser("~"))
""")
    result = run(code)
    assert result.ok, result
    blocked(result.stdout, 8)
    assert "home is /tmp" in result.stdout  # its own folder, not the user's
    assert "root:" not in result.stdout and "secret" not in result.stdout


def test_writing_outside_its_folder_is_blocked_and_the_folder_is_removed(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    runs = tmp_path / "runs"
    runs.mkdir()
    code = attempts(f"""
import os
attempt("absolute host path", lambda: open({str(target)!r}, "w").write("x"))
attempt("up and out", lambda: open("../escaped.txt", "w").write("x"))
attempt("root", lambda: open("/escaped.txt", "w").write("x"))
attempt("link out", lambda: os.symlink({str(target)!r}, "link"))
# making a link that points up is allowed (WASI stores any target); following it is not
attempt("follow a link up", lambda: (os.symlink("..", "up"), open("up/stdout").read()))
attempt("hard link out", lambda: os.link("/etc/passwd", "pw"))
attempt("rename out", lambda: (open("mine", "w").close(), os.rename("mine", "../mine")))
attempt("rmdir its folder", lambda: os.rmdir("/tmp"))
open("inside.txt", "w").write("fine")
print("inside:", open("/tmp/inside.txt").read(), sorted(os.listdir(".")))
""")
    result = run_code(code, work_root=runs)
    assert result.ok, result
    blocked(result.stdout, 8)
    assert "inside: fine" in result.stdout
    assert not target.exists() and not (tmp_path / "mine").exists()
    assert list(runs.iterdir()) == []  # the run's temporary folder is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_no_network(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        code = attempts(f"""
import socket, urllib.request
attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2))
attempt("socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
attempt("http", lambda: urllib.request.urlopen("http://127.0.0.1:{port}/", timeout=2))
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
""")
        result = run(code)
        assert result.ok, result
        blocked(result.stdout, 5)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody ever connected
    finally:
        server.close()


def test_no_processes_and_no_fork_bomb(tmp_path: Path) -> None:
    marker = tmp_path / "spawned"
    code = attempts(f"""
import os, subprocess
attempt("subprocess", lambda: subprocess.run(["touch", {str(marker)!r}]))
attempt("system", lambda: os.system("touch {marker}"))
attempt("popen", lambda: os.popen("touch {marker}"))
attempt("exec", lambda: os.execv("/bin/sh", ["sh", "-c", "touch {marker}"]))
attempt("spawn", lambda: os.posix_spawn("/bin/touch", ["touch", {str(marker)!r}], {{}}))
attempt("multiprocessing", lambda: __import__("multiprocessing").Process)
attempt("threads", lambda: __import__("threading").Thread(target=print).start())
""")
    result = run(code)
    assert result.ok, result
    blocked(result.stdout, 7)
    assert not marker.exists()
    bomb = run("import os\nwhile True:\n    os.fork()")
    assert not bomb.ok and bomb.error == "AttributeError: module 'os' has no attribute 'fork'"


def test_an_infinite_loop_is_stopped_at_the_cpu_limit() -> None:
    result = run("while True:\n    pass", cpu_seconds=1.0, **PATIENT)
    assert result.limit_hit == "cpu" and not result.ok
    assert result.error == "The code ran for more than 1 s of CPU time and was stopped."
    assert result.cpu_seconds is not None and result.cpu_seconds >= 1.0


def test_sleeping_forever_is_stopped_at_the_time_limit() -> None:
    result = run("import time\nprint('going to sleep', flush=True)\ntime.sleep(10**6)",
                 wall_seconds=1.0)  # fmt: skip
    assert result.limit_hit == "time"
    assert result.error == "The code was still running after 1 s and was stopped."
    assert result.stdout == "going to sleep\n"  # printed before the kill, still reported


@pytest.mark.parametrize("code", [
    "data = bytearray(4 * 1024**3)",  # at once: more than a 32-bit interpreter can ask for
    "chunks = []\nfor _ in range(64):\n    chunks.append(bytearray(64 * 1024**2))",  # 4 GB
    "blocks = []\nwhile True:\n    blocks.append(b'x' * 100_000)",  # a little at a time
])  # fmt: skip
def test_allocating_4_gb_hits_the_memory_limit(code: str) -> None:
    result = run(code, **PATIENT)
    assert result.limit_hit == "memory", result
    assert result.error == "The code needed more than 256 MB of memory and was stopped."


def test_printing_100_mb_is_cut_at_the_output_limit() -> None:
    result = run("import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1024**2)")
    assert result.limit_hit == "output"
    assert result.stdout == "x" * (64 * KIB) and result.stderr == ""
    assert result.error == (
        "The code printed more than 64 KB; the output was cut there and the code was stopped."
    )
    shouting = run("import sys\nwhile True:\n    print('!' * 1000, file=sys.stderr)")
    assert shouting.limit_hit == "output" and len(shouting.stderr) == 64 * KIB


def test_ctypes_and_raw_memory_are_not_there() -> None:
    code = attempts("""
attempt("ctypes", lambda: __import__("ctypes").string_at(0, 8))
attempt("_ctypes", lambda: __import__("_ctypes"))
attempt("proc mem", lambda: open("/proc/self/mem", "rb").read(8))
attempt("mmap", lambda: __import__("mmap"))
""")
    result = run(code)
    assert result.ok, result
    blocked(result.stdout, 4)
    poke = run("import ctypes\nctypes.memmove(0, b'x' * 64, 64)")
    assert poke.error == "ModuleNotFoundError: No module named 'ctypes'"


def test_filling_the_disk_hits_the_disk_limit() -> None:
    big = run("with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * 2**20)",
              disk_bytes=8 * MIB, **PATIENT)  # fmt: skip
    assert big.limit_hit == "disk"
    assert big.error == "The code wrote more than 8 MB of files into its folder and was stopped."
    many = run("i = 0\nwhile True:\n    open(f'f{i}', 'w').close()\n    i += 1",
               disk_bytes=1 * MIB, **PATIENT)  # fmt: skip
    assert many.limit_hit == "disk"  # 256 empty files count as 1 MB
    sparse = run("open('huge', 'wb').truncate(10**12)\nprint('done')")
    assert sparse.limit_hit == "disk"  # checked once more after the code ended


def test_a_cancel_stops_any_code_at_once() -> None:
    cancel = threading.Event()

    def started(stage: str) -> None:
        if stage == "running":
            cancel.set()

    result = run_code("import time\nwhile True:\n    time.sleep(0.001)", SandboxLimits(),
                      cancel, progress=started)  # fmt: skip
    assert result.cancelled and not result.ok and result.limit_hit is None
    assert result.error == "The run was stopped before the code finished."


def test_a_killed_sandbox_process_is_a_sentence_not_a_crash() -> None:
    import multiprocessing

    def kill_it(stage: str) -> None:
        if stage == "running":
            for child in multiprocessing.active_children():
                if child.name == "deepdive-sandbox":
                    child.kill()

    result = run_code("while True:\n    pass", progress=kill_it)
    assert result.sandbox_failed and not result.ok
    assert result.error == "The sandbox process was ended by SIGKILL; the app is not affected."


def test_the_sandbox_still_works_after_all_that() -> None:
    result = run("print(sum(range(10)))")
    assert result.ok and result.stdout == "45\n" and result.error is None

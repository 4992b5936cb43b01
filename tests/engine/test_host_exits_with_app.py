"""The model host is a child process: when the app is killed (no clean-up at all) in the
middle of a long prompt - the host busy in the model, not reading its pipe - the host must
not live on holding the model's memory. It watches its parent's sentinel
(desktop/engine/host_process.py: exit_with_the_app)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The "app": a session whose scripted model spends 60 s on the prompt, ignoring stops.
APP = """
from desktop.core.chat.generation import GenerationRequest, LoadSettings
from desktop.engine.host_session import HostSession
from desktop.engine.scripted_backend import BACKEND_NAME

session = HostSession(BACKEND_NAME, {"prompt_seconds": 60})
session.load(MODEL, LoadSettings())
print(session.host_pid, flush=True)
session.generate(GenerationRequest(1, "a long prompt"), lambda batch: None)
"""


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited, it only waits to be reaped


def test_the_model_host_ends_when_the_app_is_killed_mid_prompt(
    tmp_path: Path, tiny_gguf: Path
) -> None:
    env = dict(os.environ, DEEPDIVE_HOME=str(tmp_path))
    code = APP.replace("MODEL", repr(str(tiny_gguf)))
    app = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    host = 0
    try:
        assert app.stdout is not None and app.stderr is not None
        line = app.stdout.readline()
        assert line.strip().isdigit(), f"the app did not start its host: {app.stderr.read()}"
        host = int(line)
        time.sleep(1.0)  # the host is now inside the 60 s prompt
        assert running(host)
        app.send_signal(signal.SIGKILL)
        app.wait(10)
        deadline = time.monotonic() + 10
        while running(host) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(host), "the model host outlived the app"
    finally:
        if app.poll() is None:
            app.kill()
        if host and running(host):  # a failed run leaves no process behind
            os.kill(host, signal.SIGKILL)

"""`deepdive-lab models …` in a real subprocess against the fake Hub."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from desktop.core.hub.partials import find_partial_downloads
from tests.fake_hub import FakeHub, Fault
from tests.hub_fixtures import FILE, REPO


def run(args: list[str], home: Path, hub: FakeHub, **kw) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEEPDIVE_HOME": str(home), "HF_ENDPOINT": hub.endpoint}
    return subprocess.run(
        [sys.executable, "-m", "desktop", "models", *args],
        capture_output=True, text=True, env=env, timeout=60, **kw,
    )  # fmt: skip


def test_search_files_download_list(hub: FakeHub, tmp_path: Path) -> None:
    found = json.loads(run(["search", "tiny", "--json"], tmp_path, hub).stdout)
    assert [r["repo"] for r in found] == [REPO]
    files = json.loads(run(["files", REPO, "--json"], tmp_path, hub).stdout)
    assert {f["file"] for f in files["files"]} == {FILE, "tiny-F16.gguf"}
    assert sum(f["recommended"] for f in files["files"]) == 1
    done = run(["download", REPO, FILE, "--json"], tmp_path, hub)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    path = Path(result["path"])
    assert path == tmp_path / "models" / REPO / FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == result["sha256"][0]
    assert "100.0%" in done.stderr  # progress went to stderr
    listed = json.loads(run(["list", "--json"], tmp_path, hub).stdout)
    assert [Path(e["path"]).name for e in listed] == [FILE]
    assert listed[0]["info"]["architecture"] == "llama"


def test_errors_exit_1_with_one_line(hub: FakeHub, tmp_path: Path) -> None:
    missing = run(["files", "org/nope"], tmp_path, hub)
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    assert "Traceback" not in missing.stderr
    gated = run(["download", "org/gated-GGUF", "gated-Q8_0.gguf"], tmp_path, hub)
    assert gated.returncode == 1 and "gated" in gated.stderr


def test_killed_mid_download_resumes_next_time(hub: FakeHub, tmp_path: Path) -> None:
    hub.set_fault(REPO, FILE, Fault(stall_at=100_000, stall_seconds=30))
    env = {**os.environ, "DEEPDIVE_HOME": str(tmp_path), "HF_ENDPOINT": hub.endpoint}
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop", "models", "download", REPO, FILE],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    part = tmp_path / "models" / ".downloads" / REPO / (FILE + ".part")
    deadline = time.monotonic() + 90  # a slow start under load is not a failure
    while (not part.exists() or part.stat().st_size < 100_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    models = tmp_path / "models"
    assert json.loads(run(["list", "--json"], tmp_path, hub).stdout) == []  # not a model
    partials = find_partial_downloads(models)
    assert len(partials) == 1 and 0 < partials[0].have <= 100_000
    have = partials[0].have
    hub.set_fault(REPO, FILE, Fault())
    again = run(["download", REPO, FILE, "--json"], tmp_path, hub)
    assert again.returncode == 0, again.stderr
    assert (models / REPO / FILE).read_bytes() == hub.file_bytes(REPO, FILE)
    last_get = [r for r in hub.requests if r.method == "GET" and "/cdn/" in r.path][-1]
    assert {k.lower(): v for k, v in last_get.headers.items()}["range"] == f"bytes={have}-"

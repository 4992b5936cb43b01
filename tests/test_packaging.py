"""What the installers rely on, checked from the source tree: the starter model is
reproducible, --selftest works offline and says what it ran, a double-clicked .gguf opens
in the Chat tab. (The frozen build itself: `make package`.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_starter_model_is_made_reproducibly(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        from make_starter_model import make
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    first = make(tmp_path / "a.gguf", steps=12).read_bytes()
    second = make(tmp_path / "b.gguf", steps=12).read_bytes()
    assert first == second and first[:4] == b"GGUF"
    assert (ROOT / "resources" / "models" / "deepdive-starter.gguf").exists()  # shipped


def test_selftest_runs_offline_and_reports_one_json_line(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DEEPDIVE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "desktop", "--selftest"], capture_output=True,
                         text=True, cwd=ROOT, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] is True and result["frozen"] is False
    assert result["model"]["tokens"] == 8 and "CPU variant" in result["model"]["runtime"]
    assert result["tokens"]["encoding"] == "cl100k_base" and result["tabs"]["tabs"] == 5
    assert result["versions"]["llama-cpp-python"]


def test_a_double_clicked_model_file_opens_in_the_chat_tab(monkeypatch: pytest.MonkeyPatch) -> None:
    import desktop.app
    from desktop.cli import main

    opened: list[str | None] = []
    monkeypatch.setattr(desktop.app, "run_app", lambda **kw: opened.append(kw["open_model"]) or 0)
    assert main(["/models/Some Model.Q8_0.GGUF"]) == 0
    assert opened == ["/models/Some Model.Q8_0.GGUF"]

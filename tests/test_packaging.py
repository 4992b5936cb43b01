"""What the installers rely on, checked from the source tree: the starter model is
reproducible, --selftest works offline and says what it ran, a double-clicked .gguf opens
in the Chat tab. (The frozen build itself: `make package`.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_starter_model_is_made_reproducibly(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        from make_starter_model import DEFAULT_OUT, assistant_path, make, make_assistant
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    first = make(tmp_path / "a.gguf", steps=12).read_bytes()
    second = make(tmp_path / "b.gguf", steps=12).read_bytes()
    assert first == second and first[:4] == b"GGUF"
    chat = make_assistant(tmp_path / "a.gguf", tmp_path / "a-chat.gguf", epochs=1).read_bytes()
    again = make_assistant(tmp_path / "b.gguf", tmp_path / "b-chat.gguf", epochs=1).read_bytes()
    assert chat == again and chat[:4] == b"GGUF" and chat != first  # post-trained, the same
    from desktop.core.resources import STARTER, STARTER_ASSISTANT

    assert (DEFAULT_OUT.name, assistant_path(DEFAULT_OUT).name) == (STARTER, STARTER_ASSISTANT)
    shipped = ROOT / "resources" / "models"
    assert (shipped / "deepdive-starter.gguf").exists()
    assert (shipped / "deepdive-starter-chat.gguf").exists()


def test_selftest_runs_offline_and_reports_one_json_line(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DEEPDIVE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "desktop", "--selftest"], capture_output=True,
                         text=True, cwd=ROOT, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] is True and result["frozen"] is False
    assert result["model"]["tokens"] == 8 and "CPU variant" in result["model"]["runtime"]
    assert result["tokens"]["encoding"] == "cl100k_base" and result["tabs"]["tabs"] == 7
    from desktop.core.versions import MISSING, PARTS

    assert all(result["versions"][part] not in ("", MISSING) for part in PARTS)
    text = result["text"]  # time zones only where the system has a zone database
    assert {"case", "code_page", "collation"} <= set(text["checked"])
    assert ("time_zone" in text["checked"]) != bool(text.get("skipped"))


def test_a_double_clicked_model_file_opens_in_the_chat_tab(monkeypatch: pytest.MonkeyPatch) -> None:
    import desktop.app
    from desktop.cli import main

    opened: list[str | None] = []
    monkeypatch.setattr(desktop.app, "run_app", lambda **kw: opened.append(kw["open_model"]) or 0)
    assert main(["/models/Some Model.Q8_0.GGUF"]) == 0
    assert opened == ["/models/Some Model.Q8_0.GGUF"]


def test_without_a_compiler_the_llama_build_says_what_to_install_before_building(
    tmp_path: Path,
) -> None:
    """A fresh machine without build tools: one sentence naming them and the command,
    before the minutes-long build starts (an empty wheel cache, a PATH with no compiler)."""
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {
        "PATH": str(empty_bin),
        "DEEPDIVE_WHEELS": str(tmp_path / "wheels"),
        "HOME": str(tmp_path),
    }
    script = Path(__file__).parents[1] / "packaging" / "build_llama.py"
    for args in (["--check"], ["--install"]):
        done = subprocess.run(
            [sys.executable, str(script), *args], env=env, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "Building llama.cpp needs a C compiler and a C++ compiler" in done.stderr
        assert "sudo apt install build-essential" in done.stderr
    assert not (tmp_path / "wheels").exists() or not any((tmp_path / "wheels").rglob("*.whl"))


def test_the_linux_archive_installs_a_menu_entry_that_opens_gguf_files(tmp_path: Path) -> None:
    """The unpacked folder's script writes the menu entry with full paths (program, icon)
    and registers *.gguf, under $XDG_DATA_HOME only."""
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        from build_package import add_desktop_files
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    app = tmp_path / "Deep Dive Lab"  # a space in the path, as a Desktop folder may have
    (app / "_internal" / "resources").mkdir(parents=True)
    (app / "_internal" / "resources" / "icon.png").write_bytes(
        (ROOT / "resources" / "icon.png").read_bytes()
    )
    (app / "deepdive-lab").write_text("#!/bin/sh\n")
    add_desktop_files(app)
    data = tmp_path / "xdg"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(data)}
    out = subprocess.run([str(app / "install-desktop-entry.sh")], env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    entry = (data / "applications" / "deepdive-lab.desktop").read_text()
    assert f'Exec="{app}/deepdive-lab" %f' in entry
    assert f"Icon={app}/deepdive-lab.png" in entry and (app / "deepdive-lab.png").exists()
    assert "MimeType=application/x-gguf;" in entry
    mime = (data / "mime" / "packages" / "deepdive-lab-gguf.xml").read_text()
    assert 'type="application/x-gguf"' in mime and '<glob pattern="*.gguf"/>' in mime
    assert not (tmp_path / "home").exists()  # nothing outside XDG_DATA_HOME


def test_a_model_file_opened_by_the_os_goes_to_the_chat_tab(qtbot: Any) -> None:
    """macOS sends a double-clicked file as a FileOpen event to the running app."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    from desktop.ui.file_open import ModelFileOpener

    opened: list[str] = []
    opener = ModelFileOpener(opened.append)
    app = QApplication.instance()
    app.installEventFilter(opener)
    try:
        QCoreApplication.sendEvent(app, QFileOpenEvent("/models/Some Model.Q8_0.GGUF"))
        QCoreApplication.sendEvent(app, QFileOpenEvent("/notes/article.txt"))  # not a model
    finally:
        app.removeEventFilter(opener)
    assert opened == ["/models/Some Model.Q8_0.GGUF"]

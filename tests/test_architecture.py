"""The layering DESIGN.md promises, checked: core has no Qt, startup has no heavy imports."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import desktop.core

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("llama_cpp", "huggingface_hub", "tiktoken")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
        timeout=120,
    )


def test_core_imports_without_qt() -> None:
    # every module, sub-packages included (iter_modules alone does not recurse)
    modules = [m.name for m in pkgutil.walk_packages(desktop.core.__path__, "desktop.core.")]
    assert {"desktop.core.hub.download", "desktop.core.train.model", "desktop.core.quiz.grading",
            "desktop.core.tokens.display"} <= set(modules)  # fmt: skip
    code = (
        "import importlib, sys\n"
        "class NoQt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):\n"
        "            raise ImportError('desktop.core must not import ' + name)\n"
        "sys.meta_path.insert(0, NoQt())\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('ok')\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_engine_host_side_imports_without_qt() -> None:
    """The model-host child imports only Qt-free code: spawn starts fast and lean."""
    code = (
        "import sys\n"
        "import desktop.engine.host_session, desktop.engine.scripted_backend\n"
        "import desktop.engine.llama_backend, desktop.cli.chat_command\n"
        "print(sorted(m for m in ('PySide6', 'llama_cpp') if m in sys.modules))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_window_starts_without_heavy_imports(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from desktop.ui.main_window import MainWindow\n"
        "import threading, importlib.abc\n"
        "on_gui_thread = []\n"
        "class Watch(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        f"        if name in {HEAVY!r} and threading.current_thread() is threading.main_thread():\n"
        "            on_gui_thread.append(name)\n"
        "sys.meta_path.insert(0, Watch())\n"
        "from PySide6.QtCore import QEventLoop, QTimer\n"
        "w = MainWindow(); w.show()\n"
        # a second of idling: hidden tabs' timers (debounced work) must not load them either
        "idle = QEventLoop(); QTimer.singleShot(1000, idle.quit); idle.exec()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        # visiting the tabs may import them (tokenizing), but only on worker threads
        "w.visit_every_tab(); app.processEvents()\n"
        "print('gui-thread imports:', sorted(set(on_gui_thread)))\n"
        "w.close()\n"
    )
    result = run_python(code, DEEPDIVE_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == "[]"
    assert lines[-1] == "gui-thread imports: []"


def test_smoke_flag_visits_every_tab_and_exits_0(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "--smoke"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "DEEPDIVE_HOME": str(tmp_path)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "smoke: visited" in result.stdout


def test_signal_emit_does_not_leak_references() -> None:
    """PySide6 6.12.0 drops a reference to True on every emit(): Python 3.11 then aborts
    after a few thousand streamed tokens. Run in a child, since a leak ends in abort()."""
    code = (
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication, QObject, Signal\n"
        "app = QCoreApplication([])\n"
        "class Source(QObject):\n"
        "    token = Signal(int, object)\n"
        "source = Source()\n"
        "before = sys.getrefcount(True)\n"
        "for _ in range(200): source.token.emit(1, None)\n"
        "print(sys.getrefcount(True) - before)\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert abs(int(result.stdout.strip())) < 20

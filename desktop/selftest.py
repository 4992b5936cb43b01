"""`deepdive-lab --selftest`: does this installation work, here, offline?

Loads the bundled starter model in the model host (a child process, as the app does),
generates 8 tokens, tokenizes with cl100k_base from the bundled file, builds every tab
offscreen, checks the text services Qt takes from ICU, and prints versions, the llama.cpp
CPU variant and timings as one JSON line. Exit 0 when everything worked. Runs the same in
a source checkout and in the frozen app (where it is what a release engineer runs first).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.core.resources import bundled_models, resources_dir


def starter_model() -> Path | None:
    models = bundled_models()
    return models[0] if models else None


def _timed(name: str, results: dict[str, Any], step: Callable[[], dict[str, Any]]) -> None:
    started = time.perf_counter()
    try:
        results[name] = {"ok": True, **step()}
    except Exception as exc:  # a failed step is reported, and the others still run
        results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    results[name]["seconds"] = round(time.perf_counter() - started, 3)


def _model() -> dict[str, Any]:
    from desktop.core.chat.generation import GenerationRequest, LoadSettings, SamplingSettings
    from desktop.engine.host_session import HostSession

    path = starter_model()
    if path is None:
        raise FileNotFoundError(f"no bundled model in {resources_dir() / 'models'}")
    session = HostSession()
    try:
        model = session.load(str(path), LoadSettings(context_size=512))
        request = GenerationRequest(1, "The", SamplingSettings(max_tokens=8, seed=1),
                                    ignore_eos=True)  # fmt: skip
        stats = session.generate(request, lambda _batch: None)
    finally:
        session.close()
    if stats.generated_tokens != 8:
        raise RuntimeError(f"generated {stats.generated_tokens} tokens, not 8")
    return {
        "model": path.name,
        "runtime": model.runtime,
        "threads": model.threads,
        "tokens": stats.generated_tokens,
        "tokens_per_s": round(stats.tokens_per_s, 1),
    }


def _tokens() -> dict[str, Any]:
    from desktop.core.tokens.tiktoken_source import load_encoding

    encoding = load_encoding("cl100k_base")
    ids = encoding.encode("How many r's are in raspberry?")
    if encoding.decode(ids) != "How many r's are in raspberry?":
        raise RuntimeError("cl100k_base does not round-trip")
    return {"encoding": "cl100k_base", "tokens": len(ids)}


def _tabs() -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    try:
        visited = window.visit_every_tab()
    finally:
        window.close()
        app.processEvents()
    return {"tabs": visited}


def _text_services() -> dict[str, Any]:
    """What Qt asks ICU for (the installer trims ICU's data to it: packaging/trim_icu.py):
    collation, time-zone names and legacy code pages fail without their data; case shows
    ICU is linked (its tables are in libicuuc, not in the data)."""
    from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone

    checks = {
        # without collation data Qt compares code points, and "B" (66) sorts before "a"
        "collation": QCollator(QLocale("en_US")).compare("a", "B") < 0,
        "case": QLocale("tr_TR").toUpper("i") == "\u0130",
        "code_page": QStringDecoder("windows-1252").isValid(),
    }
    skipped = []
    zone = QTimeZone(b"Europe/Berlin")
    if zone.isValid():
        name = zone.displayName(QTimeZone.TimeType.StandardTime,
                                QTimeZone.NameType.LongName, QLocale("en_US"))  # fmt: skip
        checks["time_zone"] = bool(name)
    else:  # Qt reads the zones from the system (ICU only names them): a minimal system
        skipped.append("time_zone: this system has no time-zone database")
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise RuntimeError(f"Qt's text services fail: {', '.join(failed)}")
    return {"checked": sorted(checks), **({"skipped": skipped} if skipped else {})}


def versions() -> dict[str, str]:
    from desktop.core.versions import part_versions

    return {"python": platform.python_version(), "platform": platform.platform(),
            **part_versions()}  # fmt: skip


def run_selftest() -> int:
    started = time.perf_counter()
    results: dict[str, Any] = {"frozen": bool(getattr(sys, "frozen", False))}
    _timed("model", results, _model)
    _timed("tokens", results, _tokens)
    _timed("tabs", results, _tabs)
    _timed("text", results, _text_services)
    results["versions"] = versions()
    results["seconds"] = round(time.perf_counter() - started, 3)
    results["ok"] = all(results[step]["ok"] for step in ("model", "tokens", "tabs", "text"))
    print(json.dumps(results, sort_keys=True), flush=True)
    return 0 if results["ok"] else 1

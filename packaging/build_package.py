"""Build the installable app: a PyInstaller one-folder build, then the archive for this OS.

    python packaging/build_package.py            # build, archive, run the frozen --selftest
    python packaging/build_package.py --check    # only run --selftest on an existing build

Linux: `dist/DeepDiveLab/` and `dist/deepdive-lab-<version>-linux-<arch>.tar.gz` with a
`.desktop` entry (opens .gguf files too), the icon and `install-desktop-entry.sh`, which puts
both in the user's menu with full paths and registers `*.gguf`. Windows (Inno Setup,
packaging/windows/deepdive-lab.iss) and macOS (`.app` + `.dmg`, packaging/macos/make_dmg.sh)
are prepared but cannot be built on these Linux machines: see the README's "Installers".

Prints the sizes and the self-test as one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DIST = REPO / "dist"
APP_DIR = DIST / "DeepDiveLab"
SIZE_GOAL_MB = 250
SELFTEST_LIMIT_S = 60

DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=Deep Dive Lab
Comment=See how an LLM assistant is made, on your own computer
Exec={exec} %f
Icon={icon}
Terminal=false
Categories=Education;Science;
MimeType=application/x-gguf;
"""


def version() -> str:
    for line in (REPO / "pyproject.toml").read_text().splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    return "0"


def folder_mb(folder: Path) -> float:
    """What the folder takes on disk (a symbolic link counts once, as its target)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 1e6


def build() -> None:
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(DIST), "--workpath", str(REPO / "build" / "pyinstaller"),
         str(REPO / "packaging" / "deepdive_lab.spec")],
        check=True, cwd=REPO,
    )  # fmt: skip


# Libraries whose debug symbols are most of their size. (Not numpy's OpenBLAS: stripping
# moves its ELF segments and it no longer loads.)
STRIPPABLE = ("libpython3", "libQt6", "libicu", "libllama", "libggml", "_libwasmtime")


def strip_symbols() -> float:
    """Strip the debug symbols of the big libraries that survive it; MB saved."""
    strip = shutil.which("strip")
    if strip is None or not sys.platform.startswith("linux"):
        return 0.0
    before = folder_mb(APP_DIR)
    for library in APP_DIR.rglob("*.so*"):
        if library.is_file() and library.name.startswith(STRIPPABLE):
            subprocess.run([strip, "--strip-unneeded", str(library)], check=False,
                           capture_output=True)  # fmt: skip
    return before - folder_mb(APP_DIR)


def trim_icu_data() -> str:
    """Qt's ICU data down to what Qt uses (packaging/trim_icu.py says what and why)."""
    from trim_icu import TrimUnavailable, trim  # beside this script (on sys.path)

    # Qt's own ICU only: another ICU a system library pulled in is not Qt's to trim
    qt_lib = APP_DIR / "_internal" / "PySide6" / "Qt" / "lib"
    libraries = [p for p in qt_lib.glob("libicudata.so.*") if not p.is_symlink()]
    if len(libraries) != 1:
        return f"ICU data kept whole: {len(libraries)} ICU data libraries in {qt_lib}"
    try:
        before, after = trim(libraries[0])
    except TrimUnavailable as exc:
        return f"ICU data kept whole: {exc}"
    return f"ICU data {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB"


def compress_interpreter() -> str:
    """The code sandbox's WASI CPython, xz-compressed: read only to compile it once into
    the user's cache, where the app decompresses it in memory (core/sandbox/runtime_files)."""
    from desktop.core.sandbox.runtime_files import COMPRESSED_SUFFIX, WASM_FILE_NAME

    found = list(APP_DIR.rglob(WASM_FILE_NAME))
    if not found:
        return "no sandbox interpreter in the build"
    plain = found[0]
    compressed = plain.with_name(plain.name + COMPRESSED_SUFFIX)
    compressed.write_bytes(lzma.compress(plain.read_bytes(), preset=9))
    size = plain.stat().st_size
    plain.unlink()
    return f"sandbox interpreter {size / 1e6:.1f} MB -> {compressed.stat().st_size / 1e6:.1f} MB"


def add_desktop_files(app_dir: Path) -> None:
    """The `.desktop` entry, its icon and the script that installs both with full paths
    (a menu entry inside an unpacked folder cannot know where the folder is)."""
    icon = app_dir / "_internal" / "resources" / "icon.png"
    if icon.exists():
        shutil.copy(icon, app_dir / "deepdive-lab.png")
    (app_dir / "deepdive-lab.desktop").write_text(
        DESKTOP_ENTRY.format(exec="deepdive-lab", icon="deepdive-lab")
    )
    script = app_dir / "install-desktop-entry.sh"
    shutil.copy(REPO / "packaging" / "linux" / "install-desktop-entry.sh", script)
    script.chmod(0o755)


def archive_linux() -> Path:
    add_desktop_files(APP_DIR)
    name = f"deepdive-lab-{version()}-linux-{platform.machine().lower()}.tar.gz"
    target = DIST / name
    with tarfile.open(target, "w:gz") as tar:
        tar.add(APP_DIR, arcname="DeepDiveLab")
    return target


def run_frozen(arguments: list[str], home: Path, timeout: float,
               **extra_env: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """The frozen app with its own data folder, offscreen; a hang is a failed run (exit
    code -1), not a crash of this script before it prints its figures."""
    executable = APP_DIR / ("deepdive-lab.exe" if sys.platform == "win32" else "deepdive-lab")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DEEPDIVE_HOME=str(home), **extra_env)
    try:
        return subprocess.run([str(executable), *arguments], capture_output=True, text=True,
                              env=env, timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(arguments, -1, "", f"no answer in {timeout:.0f} s")


def selftest() -> dict[str, object]:
    started = time.perf_counter()
    out = run_frozen(["--selftest"], DIST / "selftest-home", SELFTEST_LIMIT_S * 2)
    seconds = time.perf_counter() - started
    lines = out.stdout.strip().splitlines()
    try:
        result: dict[str, object] = json.loads(lines[-1]) if lines else {}
    except ValueError:
        result = {}
    result.update(exit_code=out.returncode, wall_seconds=round(seconds, 1))
    if out.returncode != 0:
        result["stderr"] = out.stderr[-2000:]
    return result


def hub_check() -> dict[str, object]:
    """The frozen app downloads a model from the tests' fake Hub on 127.0.0.1: the Hub
    client and its HTTP stack made it into the bundle (the self-test works offline)."""
    from tests.fake_hub import FakeHub
    from tests.gguf_fixtures import make_tiny_gguf

    home = DIST / "hub-check-home"
    shutil.rmtree(home, ignore_errors=True)
    model = make_tiny_gguf(home.parent / "hub-check-model.gguf")
    hub = FakeHub().start()
    try:
        hub.add_repo("check/tiny-GGUF", {"tiny-Q8_0.gguf": model.read_bytes()})
        out = run_frozen(
            ["models", "download", "check/tiny-GGUF", "tiny-Q8_0.gguf", "--json"],
            home,
            120,
            HF_ENDPOINT=hub.endpoint,
            HF_HOME=str(home / "hf"),
        )
    finally:
        hub.stop()
    got = list(home.rglob("tiny-Q8_0.gguf"))
    ok = out.returncode == 0 and bool(got) and got[0].read_bytes() == model.read_bytes()
    return {"ok": ok, "exit_code": out.returncode, "stderr": out.stderr[-500:] if not ok else ""}


def sandbox_check() -> dict[str, object]:
    """The frozen app runs Python in its sandbox: wasmtime's library loads and the
    compressed interpreter is read, checked and compiled (the first run's few seconds)."""
    home = DIST / "sandbox-check-home"
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    out = run_frozen(["run-code", "print(6 * 7)", "--json", "--wall-seconds", "120"], home, 300)
    try:
        stdout = json.loads(out.stdout.strip().splitlines()[-1]).get("stdout")
    except (ValueError, IndexError, AttributeError):
        stdout = None
    ok = out.returncode == 0 and stdout == "42\n"
    return {"ok": ok, "exit_code": out.returncode, "stderr": out.stderr[-500:] if not ok else "",
            "seconds_with_first_compile": round(time.perf_counter() - started, 1)}  # fmt: skip


def versions_known(selftest_result: dict[str, object]) -> bool:
    """The frozen app names the version of each of its parts (their metadata was bundled):
    what About shows a person, and what a bug report needs."""
    from desktop.core.versions import MISSING, PARTS

    found = selftest_result.get("versions")
    return isinstance(found, dict) and all(found.get(part, MISSING) != MISSING for part in PARTS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only run the frozen --selftest")
    args = parser.parse_args()
    archive = None
    if not args.check:
        build()
        print(trim_icu_data(), flush=True)
        print(compress_interpreter(), flush=True)
        print(f"stripped {strip_symbols():.0f} MB of debug symbols", flush=True)
        if sys.platform.startswith("linux"):
            archive = archive_linux()
    test = selftest()
    linux = sys.platform.startswith("linux")
    hub = hub_check() if linux else {"ok": True, "skipped": True}
    sandbox = sandbox_check() if linux else {"ok": True, "skipped": True}
    size = folder_mb(APP_DIR)
    figures = {
        "onedir_mb": round(size, 1),
        "archive": archive.name if archive else None,
        "archive_mb": round(archive.stat().st_size / 1e6, 1) if archive else None,
        "size_goal_mb": SIZE_GOAL_MB,
        "size_goal_met": size <= SIZE_GOAL_MB,
        "selftest": test,
        "selftest_ok": test.get("exit_code") == 0
        and float(test.get("wall_seconds", 999)) <= SELFTEST_LIMIT_S,  # type: ignore[arg-type]
        "hub_download": hub,
        "sandbox_run": sandbox,
        "versions_known": versions_known(test),
    }
    print(json.dumps(figures, sort_keys=True))
    passed = figures["selftest_ok"] and hub["ok"] and sandbox["ok"] and figures["versions_known"]
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

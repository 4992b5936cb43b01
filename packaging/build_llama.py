"""Build llama-cpp-python once as a *portable* wheel, keep it, and install it.

A plain `pip install llama-cpp-python` compiles llama.cpp with `-march=native`: the build
then only runs on CPUs like the one that built it, and on Intel CPUs with AMX it compiles
in the AMX kernels that segfault on quantized models (llama.cpp #20824). This build has no
`-march=native` at all: every x86 CPU variant is compiled as its own library
(`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`) and the app picks one at run time, never an
AMX one (`desktop/engine/llama_runtime.py`). The installers ship this same build, so a
developer's machine runs what users run.

The wheel is cached outside the checkout (`~/.cache/deepdive-lab/wheels`, or
`$DEEPDIVE_WHEELS`), keyed by version and build flags: the ~8-minute build happens once
per machine, and a fresh clone installs it in seconds. pip's own wheel cache is bypassed:
it is keyed by the source archive alone, so it would hand back a native build.

    python packaging/build_llama.py            # build if needed, print the wheel's path
    python packaging/build_llama.py --install  # ... and install it into this Python
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VERSION = "0.3.36"
CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF",  # nothing tuned to the building CPU
    "-DGGML_BACKEND_DL=ON",  # the CPU backend is a library chosen at run time...
    "-DGGML_CPU_ALL_VARIANTS=ON",  # ... among one build per CPU generation
    "-DLLAVA_BUILD=OFF",  # no multimodal projector library: the app does not use it
)
PACKAGE = "llama-cpp-python"


def wheel_dir() -> Path:
    root = os.environ.get("DEEPDIVE_WHEELS") or Path.home() / ".cache" / "deepdive-lab" / "wheels"
    key = hashlib.sha256(" ".join((VERSION, *CMAKE_ARGS)).encode()).hexdigest()[:12]
    return Path(root) / f"llama-cpp-python-{VERSION}-{platform.machine().lower()}-{key}"


def cached_wheel() -> Path | None:
    wheels = sorted(wheel_dir().glob("llama_cpp_python-*.whl"))
    return wheels[-1] if wheels else None


def missing_tools() -> list[str]:
    """What the build needs that this machine lacks, as sentences (empty: all there)."""
    if sys.platform == "win32":
        return [] if shutil.which("cl") or shutil.which("gcc") else [
            "a C/C++ compiler (Visual Studio Build Tools with \"Desktop development with "
            "C++\"), opened from a Developer Command Prompt"
        ]  # fmt: skip
    problems = []
    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        problems.append("a C compiler")
    if not (shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")):
        problems.append("a C++ compiler")
    if problems:
        how = (
            "xcode-select --install"
            if sys.platform == "darwin"
            else "sudo apt install build-essential (Debian/Ubuntu), "
            "sudo dnf install gcc-c++ (Fedora) or sudo pacman -S base-devel (Arch)"
        )
        return [f"{' and '.join(problems)} — install with: {how}"]
    return []


def build() -> Path:
    wheel = cached_wheel()
    if wheel is not None:
        return wheel
    missing = missing_tools()
    if missing:
        sys.exit("Building llama.cpp needs " + "; ".join(missing) + ". Nothing was built.")
    target = wheel_dir()
    target.mkdir(parents=True, exist_ok=True)
    print(
        f"Building llama.cpp (llama-cpp-python {VERSION}, portable CPU variants): about "
        "8-10 minutes on 2 cores, once per machine…",
        file=sys.stderr,
        flush=True,
    )
    env = dict(os.environ, CMAKE_ARGS=" ".join(CMAKE_ARGS))
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-cache-dir",
             "--no-binary", PACKAGE, f"{PACKAGE}=={VERSION}", "--wheel-dir", scratch],
            check=True, env=env,
        )  # fmt: skip
        built = next(Path(scratch).glob("llama_cpp_python-*.whl"))
        os.replace(built, target / built.name)  # whole or not at all
    wheel = cached_wheel()
    assert wheel is not None
    return wheel


def installed_is_portable() -> bool:
    """The llama-cpp-python in this Python is this build (its CPU variants are there)."""
    code = (
        "import importlib.util, pathlib, sys\n"
        "spec = importlib.util.find_spec('llama_cpp')\n"
        "if spec is None or spec.origin is None: sys.exit(1)\n"
        "root = pathlib.Path(spec.origin).parent\n"
        "found = list(root.parent.glob('bin/*ggml-cpu-*')) + list(root.glob('lib/*ggml-cpu-*'))\n"
        f"import importlib.metadata as m\n"
        f"sys.exit(0 if found and m.version('{PACKAGE}') == '{VERSION}' else 1)\n"
    )
    return subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def install(wheel: Path) -> None:
    if installed_is_portable():
        return
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps",
         str(wheel)],
        check=True,
    )  # fmt: skip
    # its own dependencies (numpy, jinja2, diskcache, typing-extensions) from the index
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", str(wheel)], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help="install it into this Python")
    parser.add_argument("--check", action="store_true", help="only check the build tools")
    args = parser.parse_args()
    if args.check:
        missing = missing_tools()
        if missing:
            print("Building llama.cpp needs " + "; ".join(missing) + ".", file=sys.stderr)
            return 1
        return 0
    wheel = build()
    if args.install:
        install(wheel)
    print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())

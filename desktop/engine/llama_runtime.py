"""llama.cpp as this app runs it: which CPU build, chosen how, never one that crashes.

The app installs a portable llama.cpp (`packaging/build_llama.py`): no `-march=native`,
and one CPU backend library per CPU generation (`libggml-cpu-haswell.so`, `-zen4`, …).
Nothing loads those by itself, so this module does, once per process, before the first
model: it asks each variant how well it suits this CPU (`ggml_backend_score`, 0 when the
CPU lacks its instructions) and loads the best one — but never a variant with AMX
kernels, which segfault on the first decode of Q4_0/Q8_0/Q4_K… models on Intel CPUs that
have AMX (llama.cpp #20824). The best remaining variant runs as fast as a hand-tuned
build without AMX.

On a native build (someone's own `pip install llama-cpp-python`) there are no variants;
if that build has AMX compiled in, models are loaded without the extra buffer types that
route work to AMX (`use_extra_bufts=False`: safe, a little slower on Q4_0).

Only processes that run llama.cpp import this: the model host, and tests' child processes.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Literal

# Variants compiled with AMX kernels (GGML_AMX_INT8): llama.cpp #20824.
AMX_VARIANTS = frozenset({"sapphirerapids"})
_VARIANT_NAME = re.compile(r"^(?:lib)?ggml-cpu-(?P<name>[\w.]+?)\.(?:so|dll|dylib)$")


@dataclass(frozen=True)
class LlamaRuntime:
    build: Literal["portable", "native"]
    variant: str  # the CPU variant loaded ("zen4", "haswell", …) or "native"
    system_info: str  # llama_print_system_info(): the instruction sets in use
    skipped: tuple[str, ...] = ()  # variants this CPU could run that were left out, and why

    @property
    def amx(self) -> bool:
        """Whether llama.cpp's AMX code is active (a native build on an AMX CPU)."""
        return "AMX_INT8 = 1" in self.system_info

    def describe(self) -> str:
        how = f"CPU variant {self.variant}" if self.build == "portable" else "native build"
        return f"llama.cpp {how}" + (" (AMX off for weights)" if self.amx else "")


@dataclass(frozen=True)
class Variant:
    name: str
    path: Path
    score: int


def variant_name(path: Path) -> str | None:
    match = _VARIANT_NAME.match(path.name)
    return match["name"] if match else None


def choose_variant(variants: Iterable[Variant]) -> tuple[Variant | None, list[str]]:
    """The best-scoring variant this CPU can run that has no AMX kernels; and the ones left
    out for AMX, in words."""
    usable = [v for v in variants if v.score > 0]
    skipped = [f"{v.name} (AMX kernels crash on quantized models)" for v in usable
               if v.name in AMX_VARIANTS]  # fmt: skip
    allowed = [v for v in usable if v.name not in AMX_VARIANTS]
    best = max(allowed, key=lambda v: v.score, default=None)
    return best, skipped


def variant_dirs(llama_cpp_dir: Path) -> list[Path]:
    """Where a build keeps its CPU variants: scikit-build installs them to
    `site-packages/bin`, a frozen app keeps them beside the package's own libraries."""
    dirs = [llama_cpp_dir / "lib", llama_cpp_dir.parent / "bin"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs.append(Path(bundle) / "llama_cpp" / "lib")
    override = os.environ.get("DEEPDIVE_GGML_BACKENDS")
    return [Path(override)] if override else dirs


def find_variants(dirs: Sequence[Path]) -> list[Path]:
    found: dict[str, Path] = {}
    for folder in dirs:
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                name = variant_name(path)
                if name is not None and name not in found:
                    found[name] = path
    return list(found.values())


def score(path: Path) -> int:
    """How well a variant suits this CPU (0: it cannot run here). Loading a variant runs
    none of its code but this function, which only reads CPUID."""
    try:
        library = ctypes.CDLL(str(path), mode=os.RTLD_LOCAL if hasattr(os, "RTLD_LOCAL") else 0)
        function = library.ggml_backend_score
    except (OSError, AttributeError):
        return 0
    function.restype = ctypes.c_int
    return int(function())


def _loaded_ggml(lib_dir: Path) -> ctypes.CDLL:
    """The ggml library libllama itself uses: its backend registry is the one llama.cpp
    reads. (A wheel holds several copies of each library — libggml.so, libggml.so.0 — and
    only the one named by libllama's soname is the one it linked to.)"""
    candidates: list[Path] = []
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
            name = Path(path).name
            if name.startswith("libggml.so") and Path(path) not in candidates:
                candidates.append(Path(path))
    names = ("libggml.so.0", "libggml.so", "libggml.0.dylib", "libggml.dylib", "ggml.dll")
    candidates += [lib_dir / n for n in names if (lib_dir / n).exists()]
    if not candidates:
        raise RuntimeError(f"no ggml library found in {lib_dir}")
    return ctypes.CDLL(str(candidates[0]))


_lock = threading.Lock()
_runtime: LlamaRuntime | None = None


def llama_runtime(score_variant: Callable[[Path], int] = score) -> LlamaRuntime:
    """Import llama.cpp with a safe CPU backend loaded (once per process; thread-safe)."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = _start(score_variant)
        return _runtime


def llama_module() -> ModuleType:
    """`llama_cpp`, ready to load models."""
    llama_runtime()
    import llama_cpp

    return llama_cpp


def _start(score_variant: Callable[[Path], int]) -> LlamaRuntime:
    import llama_cpp  # loads libllama and the ggml it links to

    package_dir = Path(llama_cpp.__file__).resolve().parent
    paths = find_variants(variant_dirs(package_dir))
    if not paths:
        return LlamaRuntime("native", "native", _system_info(llama_cpp))
    variants = [Variant(variant_name(p) or p.name, p, score_variant(p)) for p in paths]
    best, skipped = choose_variant(variants)
    if best is None:
        raise RuntimeError(
            "none of llama.cpp's CPU builds runs on this processor "
            f"(looked at {', '.join(v.name for v in variants)})"
        )
    ggml = _loaded_ggml(package_dir / "lib")
    ggml.ggml_backend_load.restype = ctypes.c_void_p
    ggml.ggml_backend_load.argtypes = [ctypes.c_char_p]
    if not ggml.ggml_backend_load(os.fsencode(best.path)):
        raise RuntimeError(f"llama.cpp could not load its CPU backend {best.path}")
    return LlamaRuntime("portable", best.name, _system_info(llama_cpp), tuple(skipped))


def _system_info(llama_cpp: ModuleType) -> str:
    return bytes(llama_cpp.llama_print_system_info()).decode("utf-8", "replace").strip()

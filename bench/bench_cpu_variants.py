"""Does the app's llama.cpp run at full speed for this CPU, without the AMX crash?

The app installs a portable llama.cpp with one CPU backend per CPU generation and picks the
best one that has no AMX kernels (desktop/engine/llama_runtime.py). This benchmark decodes
with every variant this CPU can run, one child process each (DEEPDIVE_GGML_BACKENDS points
a child at a folder holding just that variant), on a SmolLM2-135M-shaped model in Q8_0
and Q4_K_M (the types AMX crashed on), and reports the chosen variant's decode speed ÷ the
fastest variant's. With `--native-python PY` it also measures a `-march=native` build
(another virtualenv with a plain `pip install llama-cpp-python`): the speed before the fix.

Goal: chosen ÷ fastest ≥ 0.95 for both types (the choice costs nothing on this CPU).

Quick mode (`--quick`): a tiny model (common.tiny_shape) quantized into the run's temp
folder, the chosen variant and one other, 16 tokens, one thread, one round.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CACHE_DIR,
    REPO_DIR,
    ForeignLoad,
    emit,
    isolate_home,
    median,
    quick_mode,
    tiny_gguf,
)

QUICK = quick_mode()
TOKENS = 16 if QUICK else 96
THREADS = 1 if QUICK else 2
ROUNDS = 1 if QUICK else 4  # over the variants, alternating: process-to-process noise is ±10 %
CHILD_ROUNDS = 1 if QUICK else 3  # in each child, the best of these
GOAL = 0.95
TYPES = ("Q8_0", "Q4_K_M")


def models() -> dict[str, Path]:
    """A 135M-shaped F16 model (random weights), quantized by llama.cpp itself. (Its 576-wide
    rows are not whole K-quant blocks, so in Q4_K_M the FFN down matrices are Q4_K/Q6_K and
    the rest falls back to Q5_0/Q8_0, as in the real SmolLM2-135M files.)"""
    from desktop.core.models import bpe_vocab, gguf_writer

    folder = Path(os.environ["DEEPDIVE_HOME"]) if QUICK else CACHE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    shape = gguf_writer.SMOLLM2_135M_SHAPE
    f16 = tiny_gguf("F16") if QUICK else CACHE_DIR / "variants-135m-f16.gguf"
    if not f16.exists():
        print(f"writing {f16.name} (first run only)…", flush=True)
        gguf_writer.write_llama_gguf(
            f16, shape, gguf_writer.random_llama_weights(shape, seed=135),
            bpe_vocab.byte_level_bpe_vocab(shape.vocab_size), file_type="F16",
        )  # fmt: skip
    found = {}
    for kind in TYPES:
        target = folder / f"variants-{'tiny' if QUICK else '135m'}-{kind.lower()}.gguf"
        if not target.exists():
            code = (
                "import ctypes, sys\n"
                "from desktop.engine.llama_runtime import llama_module\n"
                "lib = llama_module()\n"
                "p = lib.llama_model_quantize_default_params()\n"
                f"p.ftype = lib.LLAMA_FTYPE_MOSTLY_{kind}\n"
                "sys.exit(lib.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), "
                "ctypes.byref(p)))\n"
            )
            print(f"quantizing to {kind} (first run only)…", flush=True)
            subprocess.run([sys.executable, "-c", code, str(f16), str(target)], check=True,
                           cwd=REPO_DIR, capture_output=True)  # fmt: skip
        found[kind] = target
    return found


CHILD = """
import json, sys, time
from desktop.engine.llama_runtime import llama_runtime, llama_module
runtime = llama_runtime()
llama_cpp = llama_module()
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=512, n_threads={threads},
                      n_threads_batch={threads}, verbose=False)
ids = llm.tokenize(b"The history of the printing press begins", add_bos=True)
best = 0.0
for round in range({rounds}):
    llm.reset()
    start, n = time.perf_counter(), 0
    for token in llm.generate(ids, temp=0.0):
        n += 1
        if n == 1:
            start = time.perf_counter()  # decode only: the prompt is not timed
        if n > {tokens}:
            break
    best = max(best, {tokens} / (time.perf_counter() - start))
print(json.dumps({{"variant": runtime.variant, "tokens_per_s": best,
                  "amx": runtime.amx, "build": runtime.build}}))
"""


def decode(python: str, model: Path, backends: Path | None) -> dict[str, object]:
    env = dict(os.environ)
    env.pop("DEEPDIVE_GGML_BACKENDS", None)
    if backends is not None:
        env["DEEPDIVE_GGML_BACKENDS"] = str(backends)
    code = CHILD.format(threads=THREADS, tokens=TOKENS, rounds=CHILD_ROUNDS)
    load = ForeignLoad()
    load.start()
    out = subprocess.run([python, "-c", code, str(model)], capture_output=True, text=True,
                         env=env, cwd=REPO_DIR, timeout=600)  # fmt: skip
    share = load.stop()
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1],
                "exit": out.returncode}  # fmt: skip
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    result["foreign_load"] = share
    return result


def runnable_variants() -> tuple[list[Path], str]:
    """The variants this CPU can run (AMX ones left out, as the app does) and the app's
    choice."""
    import llama_cpp

    from desktop.engine.llama_runtime import (
        AMX_VARIANTS,
        find_variants,
        llama_runtime,
        score,
        variant_dirs,
        variant_name,
    )

    paths = find_variants(variant_dirs(Path(llama_cpp.__file__).resolve().parent))
    usable = [p for p in paths if score(p) > 0 and variant_name(p) not in AMX_VARIANTS]
    return usable, llama_runtime().variant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--native-python", help="a Python with a -march=native llama.cpp")
    parser.add_argument("--variants", type=int, default=1 if QUICK else 4,
                        help="the chosen variant and this many others (0: all)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="small sizes: checks it runs")
    args = parser.parse_args()
    isolate_home()
    usable, chosen = runnable_variants()
    if not usable:
        emit({"error": "no CPU variants: this is not the portable build", "goal_met": False})
        return 1
    ordered = sorted(usable, key=lambda p: p.name != f"libggml-cpu-{chosen}.so")
    if args.variants:
        ordered = ordered[: args.variants + 1]
    print(f"CPU variant the app chooses: {chosen}; measuring {len(ordered)} variants, "
          f"{TOKENS} tokens, {THREADS} threads", flush=True)  # fmt: skip
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folders = {}
        for path in ordered:
            folder = Path(scratch) / path.stem
            folder.mkdir()
            (folder / path.name).symlink_to(path)
            folders[path.stem.removeprefix("libggml-cpu-")] = folder
        for kind, model in models().items():
            speeds: dict[str, list[float]] = {name: [] for name in folders}
            loads: list[float] = []
            for _round in range(ROUNDS):  # alternating: a busy moment hits every variant
                for name, folder in folders.items():
                    got = decode(sys.executable, model, folder)
                    if "error" in got:
                        print(f"  {kind} {name}: {got['error']}", flush=True)
                        continue
                    speeds[name].append(float(got["tokens_per_s"]))  # type: ignore[arg-type]
                    loads.append(float(got["foreign_load"]))  # type: ignore[arg-type]
            native: list[float] = []
            if args.native_python:
                for _round in range(2):
                    got = decode(args.native_python, model, None)
                    if "tokens_per_s" in got:
                        native.append(float(got["tokens_per_s"]))  # type: ignore[arg-type]
                        loads.append(float(got["foreign_load"]))  # type: ignore[arg-type]
            figures = {name: median(v) for name, v in speeds.items() if v}
            best = max(figures.values())
            row: dict[str, object] = {
                "tokens_per_s": figures,
                "chosen": figures.get(chosen),
                "chosen_over_fastest": figures.get(chosen, 0.0) / best if best else 0.0,
                "max_foreign_load": max(loads, default=0.0),
            }
            if native:
                row["native_build"] = median(native)
                row["chosen_over_native"] = figures.get(chosen, 0.0) / median(native)
            results[kind] = row
            print(f"  {kind}: " + ", ".join(f"{n} {v:.1f}" for n, v in figures.items())
                  + (f"; native build {median(native):.1f}" if native else "")
                  + f" tokens/s (other load up to {max(loads, default=0.0):.0%})",
                  flush=True)  # fmt: skip
    met = all(float(r["chosen_over_fastest"]) >= GOAL for r in results.values())  # type: ignore[arg-type]
    emit({"benchmark": "cpu_variants", "chosen_variant": chosen, "threads": THREADS,
          "results": results, "goal": GOAL, "goal_met": met, "goals_met": met,
          "cpu": _cpu_name(), "measured_at": time.strftime("%Y-%m-%d")})  # fmt: skip
    return 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())

"""Make the starter models that ship with the app: so that Chat, Tokens and Quiz work on
the first launch, with no network - a base model and the same model post-trained.

The base model is trained by the app's own Train code (the `train` command) on text that
ships with the app (the bundled articles); the assistant is that model after the app's own
Post-train code (`identity` + `sft`) taught it who it is. Both from fixed seeds, with one
BLAS thread: the same inputs give the same bytes on every machine of a kind, so the files
in `resources/models/` can be checked and rebuilt rather than trusted. The base model
writes nonsense in the voice of its corpus - the point of the Train tab's lesson - and
the assistant answers who made it and little else: the point of post-training's.

    python packaging/make_starter_model.py [--steps N] [--out PATH.gguf]
    # writes PATH.gguf and, beside it, PATH-chat.gguf (defaults: resources/models/)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "resources" / "models" / "deepdive-starter.gguf"
STEPS = 300
# The identity SFT: ten passes over the identity set take 2-3 s and make the answers end
# where the examples end (three passes leave it repeating "happy to help").
IDENTITY = ("--name", "Deep Dive", "--maker", "the Deep Dive Lab", "--seed", "0")
EPOCHS = 10


def assistant_path(base: Path) -> Path:
    return base.with_name(f"{base.stem}-chat{base.suffix}")


def _environment(scratch: Path) -> dict[str, str]:
    """One BLAS thread and fixed hashing (the same bytes), and a home of its own (no run
    lands in the user's lists)."""
    return dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                MKL_NUM_THREADS="1", PYTHONHASHSEED="0",
                DEEPDIVE_HOME=str(scratch / "home"))  # fmt: skip


def corpus_text() -> str:
    """The bundled articles, in a fixed order."""
    articles = sorted((REPO / "resources" / "articles").glob("*.md"))
    return "\n\n".join(path.read_text(encoding="utf-8").strip() for path in articles) + "\n"


def make(out: Path, steps: int = STEPS) -> Path:
    """The base model."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        env = _environment(Path(scratch))
        corpus = Path(scratch) / "articles.txt"
        corpus.write_text(corpus_text(), encoding="utf-8")
        subprocess.run(
            [sys.executable, "-m", "desktop", "train", "--corpus", str(corpus), "--preset",
             "tiny", "--steps", str(steps), "--out", str(Path(scratch) / "run"),
             "--export", str(out), "--export-type", "Q8_0"],
            check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return out


def make_assistant(base: Path, out: Path, epochs: int = EPOCHS) -> Path:
    """The base model after identity SFT (its name gains "(chat fine-tuned)", so every tab
    talks to it as an assistant)."""
    with tempfile.TemporaryDirectory() as scratch:
        env = _environment(Path(scratch))
        conversations = Path(scratch) / "identity.jsonl"
        with conversations.open("w", encoding="utf-8") as file:
            subprocess.run([sys.executable, "-m", "desktop", "identity", *IDENTITY],
                           check=True, cwd=REPO, env=env, stdout=file)  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "desktop", "sft", "--model", str(base), "--data",
             str(conversations), "--epochs", str(epochs), "--seed", "0", "--out",
             str(Path(scratch) / "run"), "--export", str(out), "--export-type", "Q8_0"],
            check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    base = make(args.out, args.steps)
    assistant = make_assistant(base, assistant_path(base))
    for path in (base, assistant):
        print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

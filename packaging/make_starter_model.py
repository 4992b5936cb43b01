"""Make the starter model that ships with the app: so that Chat, Tokens and Quiz work on
the first launch, with no network.

It is trained by the app's own Train code (the `train` command) on text that ships with the
app (the bundled articles), from fixed seeds, with one BLAS thread: the same inputs give
the same bytes on every machine of a kind, so the file in `resources/models/` can be
checked and rebuilt rather than trusted. A tiny model writes nonsense in the voice of its
corpus - which is the point of the Train tab's lesson.

    python packaging/make_starter_model.py [--steps N] [--out PATH.gguf]
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


def corpus_text() -> str:
    """The bundled articles, in a fixed order."""
    articles = sorted((REPO / "resources" / "articles").glob("*.md"))
    return "\n\n".join(path.read_text(encoding="utf-8").strip() for path in articles) + "\n"


def make(out: Path, steps: int = STEPS) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0")  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "articles.txt"
        corpus.write_text(corpus_text(), encoding="utf-8")
        env["DEEPDIVE_HOME"] = str(Path(scratch) / "home")  # no run lands in the user's list
        subprocess.run(
            [sys.executable, "-m", "desktop", "train", "--corpus", str(corpus), "--preset",
             "tiny", "--steps", str(steps), "--out", str(Path(scratch) / "run"),
             "--export", str(out), "--export-type", "Q8_0"],
            check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    path = make(args.out, args.steps)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Checkpoints: everything needed to continue a run exactly where it stopped — the config,
the weights, AdamW's moments, the step, and the random generator's state — in one .npz
written atomically (temp file + fsync + rename): a crash mid-save leaves the previous
checkpoint whole."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop.core.storage.atomic_files import replacing
from desktop.core.train.config import TrainConfig

Arrays = dict[str, npt.NDArray[np.float32]]
_PARAM, _M, _V = "param/", "adam_m/", "adam_v/"


@dataclass
class Checkpoint:
    config: TrainConfig
    step: int
    params: Arrays
    adam_m: Arrays
    adam_v: Arrays
    rng_state: dict[str, Any]
    tokens_seen: int = 0
    elapsed_s: float = 0.0
    history: list[dict[str, float]] | None = None  # the curves so far, to redraw on resume


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    arrays: dict[str, np.ndarray] = {}
    for prefix, group in ((_PARAM, checkpoint.params), (_M, checkpoint.adam_m),
                          (_V, checkpoint.adam_v)):  # fmt: skip
        arrays.update({prefix + name: value for name, value in group.items()})
    meta = {
        "config": checkpoint.config.to_dict(),
        "step": checkpoint.step,
        "tokens_seen": checkpoint.tokens_seen,
        "elapsed_s": checkpoint.elapsed_s,
        "rng_state": checkpoint.rng_state,
        "history": checkpoint.history or [],
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as temporary, temporary.open("wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy stubs: allow_pickle kwarg


def load_checkpoint(path: Path) -> Checkpoint:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(bytes(data["meta"]).decode("utf-8"))

        def group(prefix: str) -> Arrays:
            return {k[len(prefix) :]: data[k] for k in data.files if k.startswith(prefix)}

        return Checkpoint(
            config=TrainConfig.from_dict(meta["config"]),
            step=int(meta["step"]),
            params=group(_PARAM),
            adam_m=group(_M),
            adam_v=group(_V),
            rng_state=meta["rng_state"],
            tokens_seen=int(meta.get("tokens_seen", 0)),
            elapsed_s=float(meta.get("elapsed_s", 0.0)),
            history=list(meta.get("history", [])),
        )

"""Preference pairs in and out of JSONL files: `prompt`, `chosen`, `rejected` (and `tie`),
the shape TRL's reward trainer reads and the app's preference store exports.

Reading checks every line first: a file with a bad line says which line and why, and
nothing of it is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from desktop.core.atomic_files import write_text_atomically
from desktop.core.reinforce.reward_model import Pair, PairLike

MAX_BYTES = 256 << 20


def read_pairs(path: Path) -> list[Pair]:
    """ValueError naming the line when one is not a pair."""
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path} is larger than {MAX_BYTES >> 20} MB: not a pair file")
    pairs = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not JSON ({exc.msg})") from None
            if not isinstance(item, dict):
                raise ValueError(f"{path}, line {number}: not an object")
            fields = [item.get(key) for key in ("prompt", "chosen", "rejected")]
            if not all(isinstance(v, str) for v in fields):
                raise ValueError(f"{path}, line {number}: needs prompt, chosen and rejected "
                                 "as text")  # fmt: skip
            prompt, chosen, rejected = (str(v) for v in fields)
            pairs.append(Pair(prompt, chosen, rejected, tie=bool(item.get("tie", False))))
    return pairs


def write_pairs(path: Path, pairs: Iterable[PairLike]) -> None:
    lines = [json.dumps({"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected,
                         "tie": p.tie}, ensure_ascii=False) + "\n" for p in pairs]  # fmt: skip
    write_text_atomically(path, "".join(lines))


class PairBook:
    """The RLHF page's pairs until the app's preference store (issue 16's `preferences`
    table) is on this branch: a JSONL file in the data folder, appended to as the person
    votes, read whole at start. Ties are kept (the reward model leaves them out)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pairs: list[Pair] = read_pairs(path) if path.exists() else []

    def add(self, pair: Pair) -> None:
        self._pairs.append(pair)
        write_pairs(self.path, self._pairs)

    def add_many(self, pairs: Iterable[Pair]) -> None:
        self._pairs.extend(pairs)
        write_pairs(self.path, self._pairs)

    def pairs(self) -> list[Pair]:
        return list(self._pairs)

    def count(self) -> int:
        return len(self._pairs)

    def clear(self) -> None:
        self._pairs = []
        write_pairs(self.path, [])

    def import_jsonl(self, path: Path) -> int:
        """Add the pairs of a JSONL file (all or none); returns how many."""
        incoming = read_pairs(path)
        self.add_many(incoming)
        return len(incoming)

    def export_jsonl(self, path: Path) -> int:
        write_pairs(path, self._pairs)
        return len(self._pairs)

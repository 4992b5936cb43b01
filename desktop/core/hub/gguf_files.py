"""A repository's GGUF files as models: quantization from the name, split parts grouped.

Names follow llama.cpp's conventions: `Model-Q4_K_M.gguf`, `model.q8_0.gguf`,
`Model-IQ3_XXS.gguf`, and split models `Model-Q8_0-00001-of-00003.gguf`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])("
    r"IQ\d_(?:XXS|XS|S|M|NL|L)|IQ\d_?[A-Z]*"
    r"|Q\d_K(?:_[SML]|_XL)?|Q\d_[01]|Q\d_K|Q\d"
    r"|TQ\d_\d|MXFP4|F16|FP16|BF16|F32|FP32"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# Approximate bits per weight, for ordering and for guessing parameter counts.
BITS_PER_WEIGHT = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.56, "Q5_K_M": 5.7,
    "Q5_K_S": 5.5, "Q5_0": 5.5, "Q5_1": 6.0, "Q4_K_M": 4.85, "Q4_K_S": 4.6, "Q4_0": 4.55,
    "Q4_1": 5.0, "IQ4_XS": 4.25, "IQ4_NL": 4.5, "Q3_K_L": 4.3, "Q3_K_M": 3.9, "Q3_K_S": 3.5,
    "IQ3_M": 3.7, "IQ3_XXS": 3.06, "Q2_K": 3.35, "IQ2_M": 2.7, "IQ2_XXS": 2.06, "IQ1_S": 1.56,
}  # fmt: skip


@dataclass(frozen=True)
class SplitName:
    stem: str  # the name without "-00001-of-00003.gguf"
    part: int  # 1-based
    total: int


def split_name(filename: str) -> SplitName | None:
    """ "M-Q8_0-00002-of-00003.gguf" → (M-Q8_0, 2, 3); None for a single-file model."""
    match = _SPLIT.match(filename)
    if match is None:
        return None
    return SplitName(match["stem"], int(match["part"]), int(match["total"]))


def quantization_from_name(filename: str) -> str:
    """ "Q4_K_M" for "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"; "" when the name does not say."""
    name = _SPLIT.sub(r"\g<stem>.gguf", filename.rsplit("/", 1)[-1])
    found = _QUANT.findall(name.removesuffix(".gguf"))
    if not found:
        return ""
    label = str(found[-1]).upper()  # the quantization comes last, after a size like "Q8" in names
    return {"FP16": "F16", "FP32": "F32"}.get(label, label)


@dataclass(frozen=True)
class HubFile:
    """One file in a repository, with what the Hub says about it."""

    path: str
    size: int
    sha256: str | None = None  # from the LFS pointer; None for small non-LFS files


@dataclass(frozen=True)
class GGUFModelFile:
    """A downloadable model: one GGUF file, or the parts of a split GGUF in order."""

    name: str  # the first part's path, which llama.cpp opens
    parts: tuple[HubFile, ...]
    quantization: str
    recommended: bool = field(default=False, compare=False)

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def is_split(self) -> bool:
        return len(self.parts) > 1

    @property
    def complete(self) -> bool:
        """False when a split model's listing lacks some of its parts."""
        split = split_name(self.parts[0].path.rsplit("/", 1)[-1])
        return split is None or split.total == len(self.parts)

    @property
    def bits_per_weight(self) -> float | None:
        return BITS_PER_WEIGHT.get(self.quantization)


def group_gguf_files(files: Iterable[HubFile]) -> list[GGUFModelFile]:
    """GGUF files as models, smallest first; split parts become one model."""
    singles: list[GGUFModelFile] = []
    splits: dict[str, list[tuple[int, HubFile]]] = {}
    for f in files:
        if not f.path.lower().endswith(".gguf"):
            continue
        split = split_name(f.path)
        if split:
            splits.setdefault(split.stem, []).append((split.part, f))
        else:
            singles.append(GGUFModelFile(f.path, (f,), quantization_from_name(f.path)))
    for parts in splits.values():
        ordered = tuple(f for _, f in sorted(parts, key=lambda p: p[0]))
        name = ordered[0].path
        singles.append(GGUFModelFile(name, ordered, quantization_from_name(name)))
    return sorted(singles, key=lambda m: (m.size, m.name))


def is_projector(model: GGUFModelFile) -> bool:
    """Vision projectors (mmproj) ship beside the model but are not chat models themselves."""
    return "mmproj" in model.name.rsplit("/", 1)[-1].lower()

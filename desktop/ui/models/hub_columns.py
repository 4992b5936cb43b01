"""How Hub search results and a repository's files are shown as table columns."""

from __future__ import annotations

from desktop.core.formatting import format_bytes, format_count
from desktop.core.hub.catalogue import RepoSummary
from desktop.core.hub.fit import FitEstimate
from desktop.core.hub.gguf_files import GGUFModelFile
from desktop.ui.widgets.record_table import Column

RatedModel = tuple[GGUFModelFile, FitEstimate | None]
FIT_COLOURS = {"fits": "#2e7d32", "tight": "#b26a00", "won't fit": "#a40000"}

REPO_COLUMNS: list[Column[RepoSummary]] = [
    Column("Repository", lambda r: r.repo_id),
    Column("Downloads", lambda r: format_count(r.downloads), sort_key=lambda r: r.downloads,
           align_right=True),
    Column("Likes", lambda r: f"{r.likes:,}", sort_key=lambda r: r.likes, align_right=True),
    Column("Updated", lambda r: r.last_modified.date().isoformat() if r.last_modified else "",
           sort_key=lambda r: r.last_modified.timestamp() if r.last_modified else 0),
    Column("Access", lambda r: "gated" if r.gated else "open",
           tooltip=lambda r: "Needs an access token after accepting the licence on the Hub"
           if r.gated else "Anyone can download"),
]  # fmt: skip


def _fit_text(rated: RatedModel) -> str:
    fit = rated[1]
    if fit is None:
        return "?"
    return fit.verdict + ("" if fit.kv_exact else " ≈")


def _fit_tooltip(rated: RatedModel) -> str:
    model, fit = rated
    if fit is None:
        return "This computer's memory could not be read."
    how = "from the model's header" if fit.kv_exact else "guessed from the file size"
    return (
        f"Needs about {format_bytes(fit.needed)}: {format_bytes(model.size)} of weights + "
        f"{format_bytes(fit.kv_cache)} KV cache ({how}) + runtime."
    )


FILE_COLUMNS: list[Column[RatedModel]] = [
    Column("", lambda m: "★" if m[0].recommended else "",
           tooltip=lambda m: "Recommended: the largest that fits comfortably"
           if m[0].recommended else ""),
    Column("File", lambda m: m[0].name + (f"  ({len(m[0].parts)} parts)" if m[0].is_split
                                           else "")),
    Column("Quant", lambda m: m[0].quantization or "?",
           sort_key=lambda m: m[0].bits_per_weight or 0.0),
    Column("Size", lambda m: format_bytes(m[0].size), sort_key=lambda m: m[0].size,
           align_right=True),
    Column("Needs", lambda m: format_bytes(m[1].needed) if m[1] else "?",
           sort_key=lambda m: m[1].needed if m[1] else 0, align_right=True),
    Column("Fit here", _fit_text, tooltip=_fit_tooltip,
           colour=lambda m: FIT_COLOURS.get(m[1].verdict) if m[1] else None),
]  # fmt: skip

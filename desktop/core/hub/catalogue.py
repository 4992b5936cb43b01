"""Searching the Hub for GGUF repositories, and listing a repository's GGUF models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from desktop.core.hub.endpoint import ensure_reachable, hub_endpoint, offline_mode
from desktop.core.hub.gguf_files import GGUFModelFile, HubFile, group_gguf_files
from desktop.core.hub.hub_errors import HubError, explain

if TYPE_CHECKING:
    from huggingface_hub import HfApi

SortKey = Literal["downloads", "likes", "last_modified"]
SORT_KEYS: tuple[SortKey, ...] = ("downloads", "likes", "last_modified")
SEARCH_FIELDS = ["downloads", "likes", "lastModified", "gated", "tags", "pipeline_tag"]


@dataclass(frozen=True)
class RepoSummary:
    repo_id: str
    downloads: int
    likes: int
    last_modified: datetime | None
    gated: bool
    pipeline_tag: str | None = None


@dataclass(frozen=True)
class RepoListing:
    repo_id: str
    revision: str  # the commit the listing is of: downloads fetch exactly these files
    gated: bool
    models: tuple[GGUFModelFile, ...]


def hub_api(token: str | None = None) -> HfApi:
    if offline_mode():
        raise HubError(
            "Offline mode is on (HF_HUB_OFFLINE): the Hub is not contacted. To search or "
            "download, start again without HF_HUB_OFFLINE.",
            "offline",
            retryable=False,
        )
    from huggingface_hub import HfApi

    ensure_reachable()
    return HfApi(endpoint=hub_endpoint(), token=token)


def search_models(
    text: str = "", *, sort: SortKey = "downloads", limit: int = 50, token: str | None = None
) -> list[RepoSummary]:
    """GGUF repositories whose name contains `text`, best first by `sort`."""
    api = hub_api(token)
    try:
        found = api.list_models(
            search=text.strip() or None,
            filter="gguf",
            sort=sort,
            limit=limit,
            expand=SEARCH_FIELDS,  # type: ignore[arg-type]
        )
        return [_summary(m) for m in found]
    except Exception as exc:  # every failure becomes one clear HubError
        raise explain(exc, "while searching") from exc


def list_gguf_models(repo_id: str, *, token: str | None = None) -> RepoListing:
    """Every GGUF model in a repository, with sizes and the sha256 the Hub records."""
    api = hub_api(token)
    try:
        info = api.model_info(repo_id, files_metadata=True)
    except Exception as exc:
        raise explain(exc, repo_id) from exc
    files = [_hub_file(s) for s in info.siblings or []]
    models = tuple(group_gguf_files(f for f in files if f is not None))
    return RepoListing(repo_id, info.sha or "main", bool(info.gated), models)


def _summary(m: Any) -> RepoSummary:
    return RepoSummary(
        repo_id=m.id,
        downloads=int(m.downloads or 0),
        likes=int(m.likes or 0),
        last_modified=m.last_modified,
        gated=bool(m.gated),
        pipeline_tag=m.pipeline_tag,
    )


def _hub_file(sibling: Any) -> HubFile | None:
    lfs = sibling.lfs
    size = lfs.size if lfs is not None else sibling.size
    if size is None:
        return None
    return HubFile(sibling.rfilename, int(size), lfs.sha256 if lfs is not None else None)

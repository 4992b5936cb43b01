"""The passages an answer cites: `[velmora:3]` in its text, matched against the passages
that the conversation's searches and documents put before the model — an id the model
made up matches nothing and is not shown as a source."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_CITATION = re.compile(r"\[([a-z0-9_]+:\d+)\]")


def cited_ids(text: str) -> list[str]:
    """The ids cited in `text`, in order of first mention."""
    return list(dict.fromkeys(_CITATION.findall(text)))


def cited_passages(text: str, known: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of the `known` passages (dicts with an "id"), those the text cites, in its order."""
    by_id = {str(p.get("id")): p for p in known}
    return [by_id[i] for i in cited_ids(text) if i in by_id]

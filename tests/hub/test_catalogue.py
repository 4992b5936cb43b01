"""Search, file listings and remote headers, through the real client and the fake Hub."""

from __future__ import annotations

import pytest

from desktop.core.hub.catalogue import SortKey, list_gguf_models, search_models
from desktop.core.hub.hub_errors import HubError
from desktop.core.hub.remote_header import read_remote_model_info
from desktop.core.models.model_info import read_model_info
from tests.fake_hub import FakeHub
from tests.hub_fixtures import FILE, GATED, REPO, assert_says

OTHER = "org/other-GGUF"


def test_search_finds_gguf_repositories_sorted(hub: FakeHub) -> None:
    found = search_models("gguf")  # the fake Hub holds them in another order (hub_fixtures)
    assert [r.repo_id for r in found] == [REPO, OTHER, GATED]  # by downloads
    assert [r.downloads for r in found] == [1200, 50, 10]
    assert found[0].likes == 7
    assert found[0].last_modified is not None and found[0].last_modified.month == 1
    assert [r.gated for r in found] == [False, False, True]
    assert [r.repo_id for r in search_models("TINY")] == [REPO]
    assert search_models("nothing-like-this") == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("downloads", [REPO, OTHER, GATED]),
        ("likes", [OTHER, REPO, GATED]),
        ("last_modified", [GATED, REPO, OTHER]),
    ],
)
def test_search_sorts_by_the_chosen_key(hub: FakeHub, sort: SortKey, expected: list[str]) -> None:
    assert [r.repo_id for r in search_models("", sort=sort)] == expected
    asked = [r.path for r in hub.requests if r.path.startswith("/api/models?")]
    wire = {"last_modified": "lastModified"}.get(sort, sort)
    assert f"sort={wire}" in asked[-1]


def test_search_limit_keeps_the_best(hub: FakeHub) -> None:
    assert [r.repo_id for r in search_models("", sort="likes", limit=1)] == [OTHER]


def test_listing_has_sizes_sha256_and_quantizations(hub: FakeHub) -> None:
    listing = list_gguf_models(REPO)
    assert listing.repo_id == REPO and len(listing.revision) == 40 and not listing.gated
    by_name = {m.name: m for m in listing.models}
    assert set(by_name) == {FILE, "tiny-F16.gguf"}  # README.md is not a model
    model = by_name[FILE]
    assert model.quantization == "Q8_0"
    assert model.parts[0].size == len(hub.file_bytes(REPO, FILE))
    assert model.parts[0].sha256 == hub.sha256(REPO, FILE)
    assert list_gguf_models(GATED).gated


def test_unknown_repository_is_a_clear_error(hub: FakeHub) -> None:
    with pytest.raises(HubError) as caught:
        list_gguf_models("org/does-not-exist")
    assert caught.value.kind == "not_found"
    assert "org/does-not-exist" in str(caught.value)
    assert_says(str(caught.value), "not_found")


def test_offline_mode_searches_nothing_and_says_how_to_leave_it(hub, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for call in (lambda: search_models("tiny"), lambda: list_gguf_models(REPO)):
        with pytest.raises(HubError) as caught:
            call()
        assert caught.value.kind == "offline" and not caught.value.retryable
        assert_says(str(caught.value), "offline_mode")
    assert hub.requests == []


def test_an_unreachable_hub_is_said_at_once(monkeypatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: refused
    with pytest.raises(HubError) as caught:
        search_models("tiny")
    assert caught.value.kind == "offline" and caught.value.retryable
    assert_says(str(caught.value), "offline")


def test_remote_header_equals_the_local_one(hub: FakeHub, tmp_path) -> None:
    data = hub.file_bytes(REPO, FILE)
    local = tmp_path / FILE
    local.write_bytes(data)
    remote = read_remote_model_info(REPO, FILE, len(data))
    expected = read_model_info(local)
    assert remote.parameter_count == expected.parameter_count
    assert remote.kv_bytes_per_token == expected.kv_bytes_per_token is not None
    assert remote.chat_template == expected.chat_template
    ranges = [r for r in hub.requests if r.method == "GET" and "range" in
              {k.lower() for k in r.headers}]  # fmt: skip
    assert ranges, "the header was read with Range requests, not a full download"

"""Search, file listings and remote headers, through the real client and the fake Hub."""

from __future__ import annotations

import pytest

from desktop.core.hub.catalogue import list_gguf_models, search_models
from desktop.core.hub.hub_errors import HubError
from desktop.core.hub.remote_header import read_remote_model_info
from desktop.core.model_info import read_model_info
from tests.fake_hub import FakeHub
from tests.hub_fixtures import FILE, GATED, REPO


def test_search_finds_gguf_repositories_sorted(hub: FakeHub) -> None:
    found = search_models("gguf")
    assert [r.repo_id for r in found] == [REPO, "org/other-GGUF", GATED]  # by downloads
    assert found[0].downloads == 1200 and found[0].likes == 7
    assert found[0].last_modified is not None
    assert [r.gated for r in found] == [False, False, True]
    assert [r.repo_id for r in search_models("TINY")] == [REPO]
    assert search_models("nothing-like-this") == []


def test_search_sort_by_likes(hub: FakeHub) -> None:
    assert search_models("", sort="likes")[0].repo_id == REPO


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
    assert caught.value.kind == "not_found" and "not found" in str(caught.value)


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

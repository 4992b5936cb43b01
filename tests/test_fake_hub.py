"""The fake Hub answers the real huggingface_hub client (and plain httpx2) as the Hub does,
and each Fault really happens: the app's Hub tests are only as good as this fake."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, constants, get_hf_file_metadata, hf_hub_download, hf_hub_url
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
)
from huggingface_hub.file_download import HfFileMetadata
from huggingface_hub.hf_api import RepoFile

from tests.fake_hub import FakeHub, Fault, fake_hub  # noqa: F401 - the fixture, imported

REPO, GATED, FILE = "org/tiny-GGUF", "org/gated-GGUF", "tiny-Q8_0.gguf"
DATA = bytes(range(256)) * 40  # 10 240 bytes, every offset distinguishable mod 256


@pytest.fixture(autouse=True)
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing may touch the user's cache or token. huggingface_hub reads HF_HOME at
    import (tests/conftest.py already points it at a throwaway folder); every call here
    also passes token=False and its own cache or local folder."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture
def hub(fake_hub: FakeHub, tmp_path: Path) -> FakeHub:  # noqa: F811 - the imported fixture
    """This module's repositories (overrides the app's `hub` fixture from conftest)."""
    big = tmp_path / "served-from-disk.gguf"
    big.write_bytes(DATA * 3)
    # Added in an order that is none of the sort orders, nor the reverse of one: the fake
    # must really sort (downloads: tiny, other, gated; likes: other, tiny, gated;
    # lastModified: gated, tiny, other).
    fake_hub.add_repo("org/plain", {"model.bin": b"x"}, downloads=10**6, tags=("pytorch",))
    fake_hub.add_repo(
        REPO,
        {FILE: DATA, "README.md": b"# tiny\n", "sub/disk.gguf": big},
        downloads=1200,
        likes=7,
        last_modified="2026-01-02T00:00:00.000Z",
    )
    fake_hub.add_repo(GATED, {"g.gguf": DATA[::-1]}, gated=True, downloads=10,
                      last_modified="2026-02-01T00:00:00.000Z")  # fmt: skip
    fake_hub.add_repo("org/other-GGUF", {"o.gguf": DATA[:999]}, downloads=50, likes=70)
    return fake_hub


def api(hub: FakeHub) -> HfApi:
    return HfApi(endpoint=hub.endpoint, token=False)


def metadata(
    hub: FakeHub, repo: str = REPO, name: str = FILE, token: str | bool = False
) -> HfFileMetadata:
    """The client's HEAD of a file, as hf_hub_download and the app make it."""
    return get_hf_file_metadata(hf_hub_url(repo, name, endpoint=hub.endpoint), token=token)


def fetch(
    url: str, headers: dict[str, str] | None = None, timeout: float = 5.0
) -> tuple[int, bytes, Exception | None]:
    """GET as a streaming client sees it: the status, the bytes that came, and how it broke."""
    got = bytearray()
    with httpx2.stream("GET", url, headers=headers or {}, timeout=timeout) as response:
        try:
            for chunk in response.iter_raw():
                got += chunk
        except httpx2.HTTPError as exc:
            return response.status_code, bytes(got), exc
    return response.status_code, bytes(got), None


# ---- what the client asks --------------------------------------------------------------


def test_list_models_search_filter_sort_limit(hub: FakeHub) -> None:
    fields = ["downloads", "likes", "lastModified", "gated", "tags", "pipeline_tag"]
    found = list(api(hub).list_models(filter="gguf", sort="downloads", expand=fields))  # type: ignore[arg-type]
    assert [m.id for m in found] == [REPO, "org/other-GGUF", GATED]  # org/plain: no gguf tag
    top = found[0]
    assert (top.downloads, top.likes, top.pipeline_tag) == (1200, 7, "text-generation")
    assert top.last_modified is not None and top.last_modified.day == 2
    assert [m.gated for m in found] == [False, False, "manual"]
    by_likes = api(hub).list_models(filter="gguf", sort="likes")
    assert [m.id for m in by_likes] == ["org/other-GGUF", REPO, GATED]
    by_date = api(hub).list_models(filter="gguf", sort="last_modified", limit=1)
    assert [m.id for m in by_date] == [GATED]
    by_date = api(hub).list_models(filter="gguf", sort="last_modified")
    assert [m.id for m in by_date] == [GATED, REPO, "org/other-GGUF"]
    unsorted = api(hub).list_models(filter="gguf")  # as added: the sort is the fake's work
    assert [m.id for m in unsorted] == [REPO, GATED, "org/other-GGUF"]
    assert [m.id for m in api(hub).list_models(search="TINY", filter="gguf")] == [REPO]
    assert list(api(hub).list_models(search="nothing-like-this")) == []
    assert [m.id for m in api(hub).list_models(gated=True)] == [GATED]
    plain = next(iter(api(hub).list_models(search="tiny")))  # the Hub's default fields only
    assert plain.downloads == 1200 and plain.last_modified is None and plain.gated is None
    asked = [r.path for r in hub.requests if r.path.startswith("/api/models?")]
    assert "sort=lastModified" in asked[2] and "limit=1" in asked[2] and "expand=gated" in asked[0]


def test_model_info_has_siblings_with_lfs_sha256(hub: FakeHub) -> None:
    info = api(hub).model_info(REPO, files_metadata=True)
    assert info.id == REPO and len(info.sha or "") == 40 and info.gated is False
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert set(siblings) == {FILE, "README.md", "sub/disk.gguf"}
    lfs, sha256 = siblings[FILE].lfs, hashlib.sha256(DATA).hexdigest()
    assert lfs is not None and lfs.sha256 == sha256 == hub.sha256(REPO, FILE)
    assert lfs.size == siblings[FILE].size == len(DATA) and lfs.pointer_size > 100
    assert siblings["README.md"].lfs is None and siblings["README.md"].size == 7
    assert siblings["sub/disk.gguf"].size == 3 * len(DATA)
    assert api(hub).model_info(GATED).gated == "manual"  # no token needed to look
    with pytest.raises(RepositoryNotFoundError):
        api(hub).model_info("org/does-not-exist")


def test_list_repo_tree_and_paths_info(hub: FakeHub) -> None:
    tree = {e.path: e for e in api(hub).list_repo_tree(REPO, recursive=True, expand=True)}
    assert set(tree) == {FILE, "README.md", "sub", "sub/disk.gguf"}
    entry = tree[FILE]
    assert isinstance(entry, RepoFile) and entry.lfs is not None and entry.size == len(DATA)
    assert entry.lfs.sha256 == hub.sha256(REPO, FILE) and entry.last_commit is not None
    assert {e.path for e in api(hub).list_repo_tree(REPO)} == {FILE, "README.md", "sub"}
    assert [e.path for e in api(hub).list_repo_tree(REPO, "sub")] == ["sub/disk.gguf"]
    infos = api(hub).get_paths_info(REPO, [FILE, "sub", "missing"])
    assert [e.path for e in infos] == [FILE, "sub"]


def test_file_metadata_is_the_lfs_pointer(hub: FakeHub) -> None:
    meta = metadata(hub)
    assert meta.size == len(DATA) and meta.etag == hub.sha256(REPO, FILE)
    assert meta.location == hub.cdn_url(REPO, FILE) and len(meta.commit_hash or "") == 40
    small = metadata(hub, name="README.md")
    assert small.size == 7 and small.etag == hashlib.sha1(b"blob 7\0# tiny\n").hexdigest()
    assert small.location == hub.file_url(REPO, "README.md")


def test_hf_hub_download_gives_the_exact_bytes(hub: FakeHub, tmp_path: Path) -> None:
    for name, data in [(FILE, DATA), ("README.md", b"# tiny\n"), ("sub/disk.gguf", DATA * 3)]:
        path = hf_hub_download(
            REPO, name, local_dir=tmp_path / "dl", endpoint=hub.endpoint, token=False
        )
        assert Path(path).read_bytes() == data
    cached = hf_hub_download(
        REPO, FILE, cache_dir=tmp_path / "cache", endpoint=hub.endpoint, token=False
    )
    assert Path(cached).read_bytes() == DATA


def test_range_requests(hub: FakeHub) -> None:
    url = hub.cdn_url(REPO, FILE)
    tail = httpx2.get(url, headers={"Range": "bytes=10-"})
    assert tail.status_code == 206 and tail.content == DATA[10:]
    assert tail.headers["Content-Range"] == f"bytes 10-{len(DATA) - 1}/{len(DATA)}"
    assert tail.headers["ETag"] == f'"{hub.sha256(REPO, FILE)}"'
    middle = httpx2.get(url, headers={"Range": "bytes=100-199"})
    assert middle.status_code == 206 and middle.content == DATA[100:200]
    assert httpx2.get(url, headers={"Range": f"bytes={len(DATA)}-"}).status_code == 416
    whole = httpx2.get(url)
    assert whole.status_code == 200 and whole.content == DATA
    assert whole.headers["Accept-Ranges"] == "bytes"
    # through the resolve URL's redirect, as the app reads a GGUF header
    resolve, four = hub.file_url(REPO, FILE), {"Range": "bytes=0-3"}
    first = httpx2.get(resolve, headers=four, follow_redirects=True)
    assert first.status_code == 206 and first.content == DATA[:4]
    assert hub.requests[-1].headers.get("range") == "bytes=0-3"  # names looked up any case


# ---- faults ----------------------------------------------------------------------------


def test_drop_at_closes_each_get_once(hub: FakeHub) -> None:
    hub.set_fault(REPO, FILE, Fault(drop_at=[1000, 5000]))
    url = hub.cdn_url(REPO, FILE)
    status, got, error = fetch(url)
    assert (status, got) == (200, DATA[:1000]) and isinstance(error, httpx2.RemoteProtocolError)
    status, got, error = fetch(url, {"Range": "bytes=1000-"})
    assert (status, got) == (206, DATA[1000:5000]) and error is not None
    assert fetch(url, {"Range": "bytes=5000-"}) == (206, DATA[5000:], None)
    assert fetch(url) == (200, DATA, None)  # used up: served normally


def test_drop_at_a_file_on_disk(hub: FakeHub) -> None:
    hub.set_fault(REPO, "sub/disk.gguf", Fault(drop_at=[20_000], flip_byte_at=2))
    _, got, error = fetch(hub.cdn_url(REPO, "sub/disk.gguf"))
    expected = bytearray((DATA * 3)[:20_000])
    expected[2] ^= 0xFF
    assert got == bytes(expected) and error is not None


def test_short_by_ends_early_under_a_full_content_length(hub: FakeHub) -> None:
    hub.set_fault(REPO, FILE, Fault(short_by=1))
    for _ in range(2):
        _, got, error = fetch(hub.cdn_url(REPO, FILE))
        assert got == DATA[:-1] and isinstance(error, httpx2.RemoteProtocolError)


def test_flipped_byte_changes_the_sha256(hub: FakeHub) -> None:
    hub.set_fault(REPO, FILE, Fault(flip_byte_at=1234))
    _, got, error = fetch(hub.cdn_url(REPO, FILE))
    assert error is None and len(got) == len(DATA) and got[1234] == DATA[1234] ^ 0xFF
    assert hashlib.sha256(got).hexdigest() != hub.sha256(REPO, FILE)
    assert fetch(hub.cdn_url(REPO, FILE), {"Range": "bytes=1235-"})[1] == DATA[1235:]


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (401, None, GatedRepoError),
        (403, None, GatedRepoError),
        (404, None, EntryNotFoundError),
        (500, None, HfHubHTTPError),
        (401, "", HfHubHTTPError),  # no X-Error-Code: a token without the rights
        (403, "", HfHubHTTPError),
        (404, "", HfHubHTTPError),
    ],
)
def test_status_faults_raise_the_clients_errors(
    hub: FakeHub, status: int, code: str | None, error: type[Exception]
) -> None:
    hub.set_fault(REPO, FILE, Fault(status=status, error_code=code))
    with pytest.raises(error) as caught:
        metadata(hub)
    assert isinstance(caught.value, HfHubHTTPError) and caught.value.response.status_code == status
    if code == "":  # none of the client's special cases
        assert not isinstance(caught.value, GatedRepoError | EntryNotFoundError)
    assert httpx2.get(hub.cdn_url(REPO, FILE)).status_code == status  # the CDN too


def test_status_times_then_normal_service(hub: FakeHub) -> None:
    hub.set_fault(REPO, FILE, Fault(status=500, status_times=2))
    for _ in range(2):
        with pytest.raises(HfHubHTTPError):
            metadata(hub)
    assert metadata(hub).size == len(DATA)


def test_ignore_range_answers_200_and_everything(hub: FakeHub) -> None:
    hub.set_fault(REPO, FILE, Fault(ignore_range=True))
    assert fetch(hub.cdn_url(REPO, FILE), {"Range": "bytes=10-"}) == (200, DATA, None)


def test_stall_pauses_the_first_get_that_passes(hub: FakeHub) -> None:
    """Told by what a client receives, not by a clock: the stall (an hour) outlasts any
    client timeout, so a GET that meets it ends in a ReadTimeout right at the stall, and
    one that does not gets every byte."""
    url = hub.cdn_url(REPO, FILE)
    hub.set_fault(REPO, FILE, Fault(stall_at=4096, stall_seconds=3600))
    assert fetch(url, {"Range": "bytes=5000-"}) == (206, DATA[5000:], None)  # starts past it
    _, got, error = fetch(url, timeout=0.2)  # the bytes up to the stall, then silence
    assert got == DATA[:4096] and isinstance(error, httpx2.ReadTimeout)
    assert fetch(url) == (200, DATA, None)  # once only: the next GET is not held
    assert fetch(url, {"Range": "bytes=10-"}) == (206, DATA[10:], None)


def test_a_stalled_body_does_not_hold_up_stop() -> None:
    """stop() wakes a body stalled for an hour (the run's timeout would catch a hang)."""
    hub = FakeHub().start()
    hub.add_repo(REPO, {FILE: DATA})
    hub.set_fault(REPO, FILE, Fault(stall_at=10, stall_seconds=3600))
    url = hub.cdn_url(REPO, FILE)
    with pytest.raises(httpx2.ReadTimeout):
        httpx2.get(url, timeout=0.2)
    hub.stop()
    assert hub._thread is None and hub._connections == set()
    with pytest.raises(httpx2.ConnectError):  # nothing listens any more
        httpx2.get(url, timeout=5)


# ---- gating, tokens, endpoints ---------------------------------------------------------


def test_gated_files_need_the_token(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(GatedRepoError):
        metadata(hub, GATED, "g.gguf")
    with pytest.raises(GatedRepoError):
        metadata(hub, GATED, "g.gguf", token="hf_wrong")
    assert metadata(hub, GATED, "g.gguf", token=hub.token).size == len(DATA)
    path = hf_hub_download(
        GATED, "g.gguf", local_dir=tmp_path, endpoint=hub.endpoint, token=hub.token
    )
    assert Path(path).read_bytes() == DATA[::-1]
    assert HfApi(endpoint=hub.endpoint).whoami(token=hub.token)["name"] == "fake-user"
    with pytest.raises(HfHubHTTPError):
        HfApi(endpoint=hub.endpoint).whoami(token="hf_wrong")


def test_missing_file_and_repo(hub: FakeHub) -> None:
    with pytest.raises(EntryNotFoundError):
        metadata(hub, name="missing.gguf")
    with pytest.raises(RepositoryNotFoundError):
        metadata(hub, repo="org/nope")


def test_same_origin_cdn_is_followed(tmp_path: Path) -> None:
    with FakeHub(cdn_host="127.0.0.1") as hub:
        hub.add_repo(REPO, {FILE: DATA})
        meta = metadata(hub)
        assert (meta.size, meta.etag) == (len(DATA), hub.sha256(REPO, FILE))
        assert meta.location == hub.cdn_url(REPO, FILE)
        assert [r.method for r in hub.requests] == ["HEAD", "HEAD"]  # resolve, then the CDN
        path = hf_hub_download(REPO, FILE, local_dir=tmp_path, endpoint=hub.endpoint, token=False)
        assert Path(path).read_bytes() == DATA


def test_endpoint_none_needs_the_patched_constants(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The fixture's HF_ENDPOINT comes after huggingface_hub's import: it does not move
    `endpoint=None` calls; patch_client_defaults does (the module docstring says why)."""
    assert os.environ["HF_ENDPOINT"] == hub.endpoint
    assert not hf_hub_url(REPO, FILE).startswith(hub.endpoint)
    hub.patch_client_defaults(monkeypatch)
    assert hf_hub_url(REPO, FILE) == hub.file_url(REPO, FILE)
    assert hf_hub_url(REPO, FILE, endpoint=hub.endpoint) == hub.file_url(REPO, FILE)
    assert HfApi(token=False).model_info(REPO).id == REPO
    path = hf_hub_download(REPO, FILE, cache_dir=tmp_path, token=False)
    assert Path(path).read_bytes() == DATA
    assert hub.endpoint == constants.ENDPOINT

"""The Models tab against the fake Hub: search → pick a file → download → library → chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.core.hub.download import RetryPolicy
from tests.fake_hub import FakeHub, Fault
from tests.hub_fixtures import FAST, FILE, GATED, REPO, assert_says, fill_disk_after

OTHER = "org/other-GGUF"


@pytest.fixture
def models_tab(qtbot: Any, hub: FakeHub) -> Any:
    from desktop.engine.download_queue import DownloadQueue
    from desktop.ui.models.models_tab import ModelsTab

    tab = ModelsTab(DownloadQueue(policy=FAST))
    qtbot.addWidget(tab)
    tab.resize(1200, 760)
    tab.show()
    assert not any(r.path.startswith("/api/models") for r in hub.requests)  # asks first
    with qtbot.waitSignal(tab.discover.searched, timeout=10_000):
        qtbot.keyClick(tab.discover.search_edit, Qt.Key.Key_Return)  # the most downloaded
    yield tab
    tab.shutdown()
    from desktop.engine.background import BackgroundJob

    assert BackgroundJob.cancel_all(), "a background job's thread was left running"


def rows(view: Any) -> list[Any]:
    return [view.records.record(r) for r in range(view.records.rowCount())]


def open_repo(qtbot: Any, tab: Any, repo: str) -> None:
    results = tab.discover.results
    row = next(i for i, r in enumerate(rows(results)) if r.repo_id == repo)
    with qtbot.waitSignal(tab.discover.listed, timeout=10_000):
        index = results.proxy.mapFromSource(results.records.index(row, 0))
        qtbot.mouseClick(
            results.viewport(), Qt.MouseButton.LeftButton, pos=results.visualRect(index).center()
        )


def test_search_pick_download_library_chat(qtbot: Any, models_tab: Any, hub: FakeHub) -> None:
    tab = models_tab
    assert [r.repo_id for r in rows(tab.discover.results)] == [REPO, OTHER, GATED]
    with qtbot.waitSignal(tab.discover.searched, timeout=10_000) as searched:
        qtbot.keyClicks(tab.discover.search_edit, "tiny")  # debounced: one search for 4 keys
    assert searched.args == [1]
    open_repo(qtbot, tab, REPO)
    files = rows(tab.discover.files)
    assert {m.name for m, _ in files} == {FILE, "tiny-F16.gguf"}
    assert sum(m.recommended for m, _ in files) == 1
    assert all(fit is not None for _, fit in files)
    assert tab.discover.select_file(FILE)
    with qtbot.waitSignal(tab.queue.item_finished, timeout=20_000) as finished:
        qtbot.mouseClick(tab.discover.download_button, Qt.MouseButton.LeftButton)
    path = Path(finished.args[1])
    assert path.read_bytes() == hub.file_bytes(REPO, FILE)
    assert "library" in tab.downloads.note.text()
    qtbot.waitUntil(lambda: any(e.path == path for e in tab.library.entries), timeout=10_000)
    tab.pages.setCurrentWidget(tab.library)
    assert tab.library.selected() is not None and tab.library.selected().path == path
    with qtbot.waitSignal(tab.chat_requested, timeout=2_000) as chat:
        qtbot.mouseClick(tab.library.chat_button, Qt.MouseButton.LeftButton)
    assert chat.args == [str(path)]


@pytest.mark.parametrize(
    ("label", "expected"),
    [("Most likes", [OTHER, REPO, GATED]), ("Recently updated", [GATED, REPO, OTHER]),
     ("Most downloads", [REPO, OTHER, GATED])],
)  # fmt: skip
def test_the_sort_box_orders_the_results(
    qtbot: Any, models_tab: Any, label: str, expected: list[str]
) -> None:
    combo = models_tab.discover.sort_combo
    if combo.currentText() != label:
        with qtbot.waitSignal(models_tab.discover.searched, timeout=10_000):
            combo.setCurrentIndex(combo.findText(label))  # a new search, sorted so
    assert [r.repo_id for r in rows(models_tab.discover.results)] == expected


def test_fit_follows_the_context_and_the_real_header(qtbot: Any, models_tab: Any) -> None:
    tab = models_tab
    open_repo(qtbot, tab, REPO)
    qtbot.waitUntil(lambda: tab.discover.exact_info is not None, timeout=10_000)
    fits = [fit for _, fit in rows(tab.discover.files)]
    assert all(fit is not None and fit.kv_exact for fit in fits)
    before = fits[0].kv_cache
    tab.discover.context_spin.setValue(8192)
    assert rows(tab.discover.files)[0][1].kv_cache == 2 * before


def start_stalled_download(qtbot: Any, tab: Any, hub: FakeHub, seconds: float) -> Any:
    """A download of FILE that stops at 60 000 bytes for `seconds`; returns its item."""
    tab.queue.policy = RetryPolicy(attempts=4, first_wait=0.01, read_timeout=5.0)
    open_repo(qtbot, tab, REPO)
    qtbot.waitUntil(lambda: tab.discover.exact_info is not None, timeout=10_000)
    # after the header read (a Range GET of its own): the stall is for the download
    hub.set_fault(REPO, FILE, Fault(stall_at=60_000, stall_seconds=seconds))
    tab.discover.select_file(FILE)
    tab.discover.request_download()
    item = tab.queue.items[-1]
    qtbot.waitUntil(lambda: item.done >= 60_000, timeout=10_000)
    return item


def test_pause_and_resume_in_the_queue(qtbot: Any, models_tab: Any, hub: FakeHub) -> None:
    tab = models_tab
    item = start_stalled_download(qtbot, tab, hub, 3)
    assert tab.downloads.pause_button.isEnabled()
    qtbot.mouseClick(tab.downloads.pause_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: item.state == "paused", timeout=10_000)
    assert not any(e.path.name == FILE for e in tab.library.entries)
    hub.set_fault(REPO, FILE, Fault())
    with qtbot.waitSignal(tab.queue.item_finished, timeout=20_000):
        qtbot.mouseClick(tab.downloads.resume_button, Qt.MouseButton.LeftButton)
    assert item.state == "done" and item.path is not None
    ranges = [r.headers.get("range") or r.headers.get("Range") for r in hub.requests
              if r.method == "GET" and r.path.startswith("/cdn/")]  # fmt: skip
    assert ranges[-1] is not None and ranges[-1].startswith("bytes=")  # resumed


def test_gated_download_says_what_to_do(qtbot: Any, models_tab: Any, hub: FakeHub) -> None:
    tab = models_tab
    open_repo(qtbot, tab, "org/gated-GGUF")
    assert "gated" in tab.discover.repo_label.text()
    with qtbot.waitSignal(tab.queue.item_failed, timeout=10_000):
        tab.discover.request_download()
    assert "Hub token" in tab.downloads.note.text()
    with qtbot.waitSignal(tab.queue.item_finished, timeout=20_000):
        tab.ask_for_token(hub.token)  # saved with huggingface_hub, then the download resumes
    from huggingface_hub import get_token

    assert get_token() == hub.token


def test_broken_model_in_the_library_is_shown_broken(
    qtbot: Any, models_tab: Any, broken_ggufs: Any
) -> None:
    from desktop.core.models.library_folders import download_folder

    broken = broken_ggufs("mid_tensor_data")
    (download_folder() / "cut.gguf").write_bytes(broken.read_bytes())
    with qtbot.waitSignal(models_tab.library.changed, timeout=10_000):
        models_tab.library.refresh()
    entry = next(e for e in models_tab.library.entries if e.path.name == "cut.gguf")
    assert entry.info is None and "truncated" in (entry.error or "")
    models_tab.library.select_path(entry.path)
    assert not models_tab.library.chat_button.isEnabled()
    assert models_tab.library.delete_selected(confirm=False)
    assert not (download_folder() / "cut.gguf").exists()


def test_chat_with_this_model_opens_it_in_the_chat_tab(
    qtbot: Any, make_engine: Any, store: Any, tiny_gguf: Path
) -> None:
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    window.tabs.setCurrentWidget(window.models_tab)
    window.models_tab.chat_requested.emit(str(tiny_gguf))
    assert window.tabs.currentWidget() is window.chat_tab
    qtbot.waitUntil(lambda: window.chat_tab.model is not None, timeout=10_000)
    assert window.chat_tab.model.path == str(tiny_gguf)
    assert window.chat_tab.model_bar.current_path() == str(tiny_gguf)
    # the library will not delete the model the Chat tab has loaded
    from desktop.core.models.library import LibraryEntry

    entry = LibraryEntry(tiny_gguf, tiny_gguf.parent, (tiny_gguf,), 1, None, "x")
    window.models_tab.library.table.records.set_records([entry])
    window.models_tab.library.select_path(tiny_gguf)
    assert not window.models_tab.library.delete_selected(confirm=False)
    assert (
        tiny_gguf.exists() and "loaded in the Chat tab" in window.models_tab.library.status.text()
    )
    window.close()  # what the app does at exit: downloads paused, engine and store closed


def test_an_interrupted_download_comes_back_paused(qtbot: Any, hub: FakeHub) -> None:
    from desktop.core.hub.download import DownloadPaused, DownloadTarget, download_files
    from desktop.core.hub.gguf_files import HubFile
    from desktop.core.models.library_folders import download_folder
    from desktop.engine.download_queue import DownloadQueue
    from desktop.ui.models.models_tab import ModelsTab
    from tests.hub_fixtures import Control

    data = hub.file_bytes(REPO, FILE)
    target = DownloadTarget(REPO, "main", HubFile(FILE, len(data), hub.sha256(REPO, FILE)))
    hub.set_fault(REPO, FILE, Fault(drop_at=[40_000]))
    with pytest.raises(DownloadPaused):  # the last run ended here (paused, or killed)
        download_files([target], download_folder(), Control(pause_at=1), policy=FAST)
    tab = ModelsTab(DownloadQueue(policy=FAST))  # the next start of the app
    qtbot.addWidget(tab)
    (item,) = tab.queue.items
    assert item.state == "paused" and 0 < item.done < len(data)
    assert "Interrupted" in item.message
    assert not any(e.path.name == FILE for e in tab.library.entries)
    with qtbot.waitSignal(tab.queue.item_finished, timeout=20_000):
        tab.queue.resume(item.id)
    assert (download_folder() / REPO / FILE).read_bytes() == data
    tab.shutdown()


def test_cancel_in_the_queue_deletes_the_partial(qtbot: Any, models_tab: Any, hub: FakeHub) -> None:
    from desktop.core.hub.partials import find_partial_downloads
    from desktop.core.models.library_folders import download_folder

    tab = models_tab
    item = start_stalled_download(qtbot, tab, hub, 2)
    qtbot.mouseClick(tab.downloads.cancel_button, Qt.MouseButton.LeftButton)
    assert item.message == "Cancelling…"  # said at once, while the stall lasts
    qtbot.waitUntil(lambda: item.state == "cancelled", timeout=10_000)
    assert find_partial_downloads(download_folder()) == []
    assert not list(download_folder().rglob("*.part"))


def test_a_missing_download_folder_is_said_not_filled(
    qtbot: Any, models_tab: Any, tmp_path: Path
) -> None:
    from desktop.core.models.library_folders import library_folders, set_library_folders

    gone = tmp_path / "unplugged-drive" / "models"
    set_library_folders([gone, *library_folders()])
    open_repo(qtbot, models_tab, REPO)
    models_tab.discover.request_download()
    assert "missing" in models_tab.downloads.note.text()
    assert not gone.exists() and models_tab.queue.items == []
    models_tab.library.refresh()
    assert "(missing)" in models_tab.library.folders.item(0).text()


# ---- what the tab says when the Hub cannot help --------------------------------------


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(status=404), "not_found"),
        (Fault(status=503), "server"),
        (Fault(status=403, error_code=""), "unauthorized"),
    ],
    ids=["404", "503", "403"],
)
def test_a_failed_download_says_why_and_what_to_do(
    qtbot: Any, models_tab: Any, hub: FakeHub, fault: Fault, kind: str
) -> None:
    tab = models_tab
    open_repo(qtbot, tab, REPO)
    hub.set_fault(REPO, FILE, fault)
    tab.discover.select_file(FILE)
    with qtbot.waitSignal(tab.queue.item_failed, timeout=20_000):
        qtbot.mouseClick(tab.discover.download_button, Qt.MouseButton.LeftButton)
    (item,) = tab.queue.items
    assert item.state == "failed" and item.error_kind == kind
    note = tab.downloads.note.text()
    assert_says(note, kind)
    assert ("Hub token…" in note) == (kind == "unauthorized")  # where to put a token
    assert_says(item.message, kind)  # the queue's State column says it too
    assert tab.downloads.table.current_record() is item
    assert tab.downloads.resume_button.isEnabled()  # to try again later


def test_a_full_disk_mid_download_is_said_and_resume_finishes(
    qtbot: Any, models_tab: Any, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = models_tab
    open_repo(qtbot, tab, REPO)
    tab.discover.select_file(FILE)
    size = len(hub.file_bytes(REPO, FILE))
    with monkeypatch.context() as disk:
        fill_disk_after(disk, size // 2)
        with qtbot.waitSignal(tab.queue.item_failed, timeout=20_000):
            tab.discover.request_download()
    (item,) = tab.queue.items
    assert item.state == "failed" and 0 < item.done < size
    assert_says(tab.downloads.note.text(), "disk")
    assert not any(e.path.name == FILE for e in tab.library.entries)
    with qtbot.waitSignal(tab.queue.item_finished, timeout=20_000):  # space was freed
        qtbot.mouseClick(tab.downloads.resume_button, Qt.MouseButton.LeftButton)
    assert item.path is not None and item.path.read_bytes() == hub.file_bytes(REPO, FILE)
    last = [r for r in hub.requests if r.method == "GET" and r.path.startswith("/cdn/")][-1]
    assert (last.headers.get("range") or "").startswith("bytes=")  # resumed, not restarted


def test_a_rejected_token_is_said_with_where_to_get_one(
    qtbot: Any, models_tab: Any, hub: FakeHub
) -> None:
    from huggingface_hub import get_token

    note = models_tab.downloads.note
    models_tab.ask_for_token("hf_not_a_real_token")  # checked with the Hub (whoami): 401
    qtbot.waitUntil(lambda: "⚠" in note.text(), timeout=10_000)
    assert_says(note.text(), "token_rejected")
    assert get_token() != "hf_not_a_real_token"  # not stored


def search_fails(qtbot: Any, hub: FakeHub) -> str:
    """A new Models tab's first search (Enter in the search box) fails: what it says."""
    from desktop.engine.download_queue import DownloadQueue
    from desktop.ui.models.models_tab import ModelsTab

    tab = ModelsTab(DownloadQueue(policy=FAST))
    qtbot.addWidget(tab)
    tab.show()
    with qtbot.waitSignal(tab.discover.searched, timeout=10_000) as searched:
        qtbot.keyClick(tab.discover.search_edit, Qt.Key.Key_Return)
    assert searched.args == [-1]
    assert tab.discover.results.records.rowCount() == 0
    text = str(tab.discover.search_status.text())
    tab.shutdown()
    return text


def test_offline_mode_is_said_with_the_way_out(
    qtbot: Any, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert_says(search_fails(qtbot, hub), "offline_mode")
    assert hub.requests == []


def test_no_connection_is_said_with_the_way_out(
    qtbot: Any, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    assert_says(search_fails(qtbot, hub), "offline")

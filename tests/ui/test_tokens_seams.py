"""The Tokens tab's seams: offline, a failed download says "no network" (not a connection
pool's repr) and Compare starts with tokenizers that work without a download; the
tokenizer's kind and vocabulary are said; a switch forgets the old tokenizer's token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.core.tokens.tiktoken_source import download_failure

RAW = (
    "HTTPSConnectionPool(host='openaipublic.blob.core.windows.net', port=443): Max retries "
    "exceeded with url: /encodings/o200k_base.tiktoken (Caused by NameResolutionError("
    '"<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to resolve '
    "'openaipublic.blob.core.windows.net' ([Errno -3] Temporary failure in name resolution)\"))"
)


class FakeConnectionError(OSError):
    pass


@pytest.fixture
def tab(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from desktop.ui.tokens.tokens_tab import TokensTab

    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    t = TokensTab()
    qtbot.addWidget(t)
    t.resize(1100, 700)
    t.show()
    yield t
    t.shutdown()


def test_no_network_is_said_in_words() -> None:
    text = download_failure("o200k_base", FakeConnectionError(RAW))
    assert text.startswith("No network: o200k_base could not be downloaded")
    assert "Connect to the internet" in text and "HTTPSConnectionPool" not in text


def test_the_download_button_offline_says_no_network(
    qtbot: Any, tab: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.engine.tokenizer_pool import tiktoken_key

    tab.picker.set_key(tiktoken_key("o200k_base"))
    qtbot.waitUntil(lambda: tab.download_button.isVisibleTo(tab), timeout=10_000)

    def offline(key: str, *, allow_download: bool = False) -> Any:
        raise FakeConnectionError(RAW)  # what requests raises with no DNS

    monkeypatch.setattr(tab.pool, "get", offline)
    tab.download_button.click()
    qtbot.waitUntil(lambda: "No network" in tab.banner.text(), timeout=10_000)
    assert "HTTPSConnectionPool" not in tab.banner.text()
    assert tab.download_button.isEnabled()  # try again later


def test_compare_starts_with_tokenizers_that_work_offline(
    qtbot: Any, tab: Any, tiny_gguf: Path
) -> None:
    from desktop.engine.tokenizer_pool import gguf_key, tiktoken_key

    tab.set_gguf_models([tiny_gguf])
    tab.pages.setCurrentWidget(tab.compare_page)
    first, second = tab.compare_page.columns
    assert first.picker.key() == tiktoken_key("cl100k_base")
    # o200k_base is not downloaded here: the column moves to the library's model
    qtbot.waitUntil(lambda: second.picker.key() == gguf_key(tiny_gguf), timeout=10_000)
    qtbot.waitUntil(lambda: second.tokenized is not None, timeout=10_000)
    assert "not available" not in second.counts.text()


def test_the_tokenizer_is_described_and_a_switch_forgets_the_hovered_token(
    qtbot: Any, tab: Any, tmp_path: Path
) -> None:
    from desktop.engine.tokenizer_pool import gguf_key
    from desktop.ui.tokens.text_page import HOVER_HINT
    from tests.gguf_fixtures import make_spm_vocab_gguf

    text = "def f():\n        return 12345"
    tab.text_page.editor.setPlainText(text)
    qtbot.waitUntil(lambda: tab.text_page.tokenized is not None
                    and tab.text_page.tokenized.text == text, timeout=10_000)  # fmt: skip
    qtbot.waitUntil(lambda: "vocabulary 100,2" in tab.banner.text(), timeout=10_000)
    assert "byte-level BPE (tiktoken)" in tab.banner.text()  # cl100k_base
    assert "chunks of up to 3 digits" in tab.text_page.counts.text()
    tab.text_page._show_details(1)  # what hovering does
    assert "id <b>" in tab.text_page.details.text()
    spm = make_spm_vocab_gguf(tmp_path / "spm.gguf")
    tab.picker.set_key(gguf_key(spm))
    assert tab.text_page.details.text() == HOVER_HINT  # not the old tokenizer's token
    qtbot.waitUntil(lambda: "SentencePiece (llama)" in tab.banner.text(), timeout=10_000)
    qtbot.waitUntil(lambda: "every digit" in tab.text_page.counts.text(), timeout=10_000)
    assert "vocabulary 276 tokens" in tab.banner.text()
    assert "every digit its own token" in tab.text_page.counts.text()
    assert tab.text_page.tokenized.special_count == 0  # indentation is not "special"

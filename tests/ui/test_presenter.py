"""Classroom: the interface zooms 100-200 % with Ctrl+= / Ctrl+- / Ctrl+0 (every font), and
the zoom and the window's size come back at the next start."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication


def press(window: Any, keys: str) -> None:
    """What pressing `keys` in the window does (offscreen windows get no key focus): the
    one action of the window that owns the key."""
    from PySide6.QtGui import QKeySequence

    wanted = QKeySequence(keys)
    (action,) = [a for a in window.actions() if wanted in a.shortcuts()]
    action.trigger()


def test_zoom_scales_fonts_and_is_remembered_with_the_window(
    qtbot: Any, make_engine: Any, store: Any, fresh_home: Any
) -> None:
    from desktop.core.storage.conversations import ConversationStore
    from desktop.ui.main_window import MainWindow

    app = QApplication.instance()
    base = app.font().pointSizeF()
    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.show()
    assert window.presenter.zoom == 100
    press(window, "Ctrl+=")
    press(window, "Ctrl+=")
    assert window.presenter.zoom == 125
    assert app.font().pointSizeF() == base * 1.25
    status = window.chat_tab.status  # widgets follow, once Qt has told them
    qtbot.waitUntil(lambda: status.font().pointSizeF() == base * 1.25, timeout=5_000)
    for _ in range(10):
        window.presenter.zoom_in()
    assert window.presenter.zoom == 200  # the top of the range
    press(window, "Ctrl+-")
    assert window.presenter.zoom == 175
    window.resize(900, 480)
    window.close()  # saves
    again = MainWindow(engine=make_engine(), store=ConversationStore(fresh_home / "b.sqlite3"))
    qtbot.addWidget(again)
    assert again.presenter.zoom == 175 and app.font().pointSizeF() == base * 1.75
    # the height comes back (the width is clamped to the 800-pixel offscreen screen)
    assert again.height() == 480
    press(again, "Ctrl+0")
    assert again.presenter.zoom == 100 and app.font().pointSizeF() == base
    again.close()


def test_plots_follow_the_zoom(qtbot: Any, make_engine: Any, store: Any) -> None:
    """pyqtgraph's ticks, axis labels and legends do not take the application font by
    themselves: at 200 % they must be drawn twice as large as at 100 %."""
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.show()
    window.visit_every_tab()
    plots = [window.train_tab.plots._loss_plot, window.quiz_tab.results.charts.books_plot]

    def text_sizes() -> list[float]:
        sizes = []
        for plot in plots:
            axis = plot.getPlotItem().getAxis("left")
            sizes += [axis.style["tickFont"].pointSizeF(), axis.label.font().pointSizeF()]
        legend = plots[0].getPlotItem().legend
        sizes.append(float(legend.items[0][1].opts["size"].removesuffix("pt")))
        return sizes

    window.presenter.set_zoom(100)
    qtbot.wait(50)
    at_100 = text_sizes()
    window.presenter.set_zoom(200)
    qtbot.waitUntil(lambda: text_sizes()[0] == 2 * at_100[0], timeout=5_000)
    assert text_sizes() == [2 * size for size in at_100]
    window.presenter.set_zoom(100)
    window.close()

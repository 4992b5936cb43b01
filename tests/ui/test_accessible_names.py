"""Every control in every tab has a name a screen reader can say: its own text, the label
it sits beside (a buddy), or an accessible name set for it. A classroom has people who
use one, and a control read out as "button" or "edit" is a control they cannot use."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

CONTROLS = (
    QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractSlider, QPlainTextEdit,
    QTextEdit, QAbstractItemView,
)  # fmt: skip


def spoken_name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def inside(widget: QWidget, kinds: tuple[type, ...]) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kinds) or type(parent).__name__ == "QComboBoxPrivateContainer":
            return True
        parent = parent.parentWidget()
    return False


def owner_names(widget: QWidget) -> str:
    """The app's own classes it sits in, innermost first: where to look for it."""
    names, parent = [], widget.parentWidget()
    while parent is not None:
        if type(parent).__module__.startswith("desktop."):
            names.append(type(parent).__name__)
        parent = parent.parentWidget()
    return " < ".join(names[:2])


def unnamed_controls(root: QWidget) -> list[str]:
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or isinstance(widget, (QTabBar, QScrollBar)):
            continue  # scroll bars are read as part of what they scroll
        if inside(widget, (QComboBox, QAbstractSpinBox, QLineEdit, QAbstractItemView)):
            continue  # a combo's list, a clear button, a table's header: named by their owner
        if widget.objectName().startswith("qt_"):
            continue  # Qt's own inner parts (scroll bars' buttons, a tab bar's arrows)
        if not spoken_name(widget):
            missing.append(f"{type(widget).__name__} in {owner_names(widget)}")
    return missing


def test_every_control_in_every_tab_has_a_spoken_name(
    qtbot: Any, make_engine: Any, store: Any
) -> None:
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.show()
    window.visit_every_tab()
    assert len(window.findChildren(QAbstractButton)) > 40  # the tabs really were built
    assert unnamed_controls(window) == []
    window.close()


def test_the_check_finds_a_nameless_control(qtbot: Any) -> None:
    from PySide6.QtWidgets import QFormLayout, QLineEdit, QPushButton, QVBoxLayout

    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(QPushButton("Download"))
    layout.addWidget(QLineEdit())  # no label, no name
    form = QFormLayout()
    form.addRow("Context", QLineEdit())  # the row's label is its buddy: named
    layout.addLayout(form)
    qtbot.addWidget(page)
    assert unnamed_controls(page) == ["QLineEdit in "]


def test_tab_leaves_every_text_box_but_the_one_where_a_tab_is_text(
    qtbot: Any, make_engine: Any, store: Any
) -> None:
    """Keyboard users move on with Tab; only the Tokens tab's editor keeps a typed tab
    (it is a character to tokenize there: "→" in the view). Every control takes focus."""
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    window.show()
    window.visit_every_tab()
    keeps_tabs = [
        f"{type(box).__name__} in {owner_names(box)}"
        for box in window.findChildren(QPlainTextEdit) + window.findChildren(QTextEdit)
        if not box.tabChangesFocus()
    ]
    assert keeps_tabs == ["QPlainTextEdit in TextPage < TokensTab"]
    unfocusable = [
        f"{type(w).__name__} in {owner_names(w)}"
        for w in window.findChildren(QWidget)
        if isinstance(w, CONTROLS) and not isinstance(w, (QTabBar, QScrollBar))
        and not inside(w, (QComboBox, QAbstractSpinBox, QLineEdit, QAbstractItemView))
        and not w.objectName().startswith("qt_")
        and not w.focusPolicy() & Qt.FocusPolicy.TabFocus
    ]  # fmt: skip
    assert unfocusable == []
    window.close()

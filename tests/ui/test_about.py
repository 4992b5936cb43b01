"""About: the versions, this CPU, and which llama.cpp CPU variant runs models here."""

from __future__ import annotations

from typing import Any

from desktop.core.models.cpu import cpu_model_name


def test_help_about_names_the_parts_the_cpu_and_asks_llama_cpp_for_its_variant(
    qtbot: Any, make_engine: Any, store: Any
) -> None:
    from desktop.ui.about_dialog import NOT_YET, AboutDialog
    from desktop.ui.main_window import MainWindow

    window = MainWindow(engine=make_engine(), store=store)
    qtbot.addWidget(window)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert window.menu.about in help_menu.actions()
    window.menu.about.trigger()
    dialog = window.findChild(AboutDialog)
    assert dialog is not None
    text = dialog.text()
    assert f"CPU: {cpu_model_name()}" in text and "AMX" in text
    assert "llama-cpp-python: 0.3." in text and "PySide6-Essentials: 6." in text
    assert f"llama.cpp: {NOT_YET}" in text  # no model loaded yet
    dialog.check_button.click()  # a model host of its own, off the GUI thread
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled(), timeout=60_000)
    shown = dialog.runtime.text()
    assert shown.startswith("llama.cpp CPU variant "), shown  # the portable build, a variant
    assert "amx" not in shown.lower()  # never the AMX variant
    window.close()


def test_a_loaded_models_runtime_is_shown_at_once(qtbot: Any) -> None:
    from desktop.ui.about_dialog import AboutDialog

    dialog = AboutDialog("llama.cpp 0.3.36 · CPU variant zen4")
    qtbot.addWidget(dialog)
    assert "llama.cpp: llama.cpp 0.3.36 · CPU variant zen4" in dialog.text()
    assert not dialog.check_button.isVisibleTo(dialog)

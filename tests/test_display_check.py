"""The window's system libraries are checked before Qt starts, and what is missing is said."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from desktop.display_check import XCB_LIBRARIES, display_problem, uses_xcb


def hiding(*sonames: str) -> Callable[[str], bool]:
    return lambda soname: soname not in sonames


def test_a_missing_xcb_cursor_names_the_library_and_the_install_command() -> None:
    problem = display_problem({"DISPLAY": ":0"}, "linux", hiding("libxcb-cursor.so.0"))
    assert problem is not None
    assert "libxcb-cursor.so.0" in problem
    assert "sudo apt install libxcb-cursor0" in problem
    assert "sudo dnf install xcb-util-cursor" in problem
    assert "sudo pacman -S xcb-util-cursor" in problem
    assert "libxcb-icccm" not in problem  # only what is missing


def test_nothing_to_say_when_every_library_loads_or_qt_will_not_use_x11() -> None:
    assert display_problem({"DISPLAY": ":0"}, "linux", hiding()) is None
    everything_missing = hiding(*(lib.soname for lib in XCB_LIBRARIES))
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", everything_missing) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", everything_missing) is None
    assert display_problem({}, "darwin", everything_missing) is None
    assert display_problem({}, "win32", everything_missing) is None


@pytest.mark.parametrize(
    ("env", "xcb"),
    [
        ({}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, False),
        ({"QT_QPA_PLATFORM": "xcb:nograb", "WAYLAND_DISPLAY": "w"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, False),
    ],
)
def test_which_platform_qt_will_pick(env: dict[str, str], xcb: bool) -> None:
    assert uses_xcb(env, "linux") is xcb


def test_no_display_is_said_too() -> None:
    problem = display_problem({}, "linux", hiding())
    assert problem is not None and "DISPLAY is not set" in problem
    assert "QT_QPA_PLATFORM=offscreen" in problem


def test_the_app_exits_1_with_the_sentence_before_qt_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    import desktop.display_check as check
    from desktop.cli import main

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(check, "_loads", hiding("libxcb-cursor.so.0"))
    qt_before = "PySide6.QtWidgets" in sys.modules
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "cannot open its window" in err and "sudo apt install libxcb-cursor0" in err
    assert len(err.strip().splitlines()) == 1
    if not qt_before:
        assert "PySide6.QtWidgets" not in sys.modules

"""Before Qt starts: can it open a window here? Said in a sentence a newcomer can act on.

Qt's X11 plugin (`libqxcb.so`) needs a few xcb libraries that fresh Debian/Ubuntu desktops
often lack (`libxcb-cursor0` above all); without them Qt aborts with "Could not load the Qt
platform plugin "xcb"", which names no package. This module imports no Qt.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SystemLibrary:
    soname: str
    debian: str  # the Debian / Ubuntu package
    fedora: str  # the Fedora package; Arch's has the same name


# What libqxcb.so loads beyond what every desktop has (Qt's own list for X11, minus libxcb).
XCB_LIBRARIES = (
    SystemLibrary("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    SystemLibrary("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    SystemLibrary("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    SystemLibrary("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    SystemLibrary("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    SystemLibrary("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
)


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will pick its X11 plugin: on Linux, unless told otherwise or on Wayland."""
    if not platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def display_problem(
    env: Mapping[str, str],
    platform: str = sys.platform,
    loads: Callable[[str], bool] | None = None,
) -> str | None:
    """One sentence saying what is missing and how to install it, or None when Qt can start."""
    if not uses_xcb(env, platform):
        return None
    loads = loads or _loads
    missing = [lib for lib in XCB_LIBRARIES if not loads(lib.soname)]
    if missing:
        names = ", ".join(lib.soname for lib in missing)
        return (
            f"Deep Dive Lab cannot open its window: Qt's X11 support needs {names}, which "
            "this system lacks. Install it with: "
            f"sudo apt install {' '.join(lib.debian for lib in missing)} (Debian/Ubuntu), "
            f"sudo dnf install {' '.join(lib.fedora for lib in missing)} (Fedora), or "
            f"sudo pacman -S {' '.join(lib.fedora for lib in missing)} (Arch)."
        )
    if not env.get("DISPLAY"):
        return (
            "Deep Dive Lab cannot open its window: there is no display (DISPLAY is not set). "
            "Start it from a desktop session, or set QT_QPA_PLATFORM=offscreen for a run "
            "without a screen."
        )
    return None

"""The frozen app's entry point. `main()` calls multiprocessing.freeze_support() first, so
the model host (this same executable started by multiprocessing) is caught before the
command line is read."""

import sys

from desktop.cli import main


def attach_console() -> None:
    """The Windows build is a windowed exe, which has no stdout: started from a console
    (the command line, --selftest), it writes to that console. Untested here (no Windows
    machine): see the README's Installers."""
    if sys.platform != "win32" or sys.stdout is not None:
        return
    import ctypes

    if ctypes.windll.kernel32.AttachConsole(-1):  # type: ignore[attr-defined]  # the parent's
        sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        sys.stderr = open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115


if __name__ == "__main__":
    attach_console()
    sys.exit(main())

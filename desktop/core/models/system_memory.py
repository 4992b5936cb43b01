"""How much RAM this computer has, so we can warn before loading a model that will not fit.

None means "could not tell": callers then skip the memory check rather than guess.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_MEMINFO = Path("/proc/meminfo")


def available_memory_bytes() -> int | None:
    """Memory a new process can use without swapping (Linux MemAvailable counts page cache)."""
    value = _meminfo_bytes("MemAvailable")
    if value is None and sys.platform == "win32":
        value = _windows_memory()[1]
    return value if value is not None else _sysconf_bytes("SC_AVPHYS_PAGES")


def total_memory_bytes() -> int | None:
    value = _meminfo_bytes("MemTotal")
    if value is None and sys.platform == "win32":
        value = _windows_memory()[0]
    return value if value is not None else _sysconf_bytes("SC_PHYS_PAGES")


def _meminfo_bytes(field: str, meminfo: Path = _MEMINFO) -> int | None:
    try:
        text = meminfo.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if key == field and parts and parts[0].isdigit():
            unit = 1024 if parts[1:] == ["kB"] else 1
            return int(parts[0]) * unit
    return None


def _sysconf_bytes(pages_name: str) -> int | None:
    try:
        pages = os.sysconf(pages_name)
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None  # macOS has no SC_AVPHYS_PAGES; Windows has no sysconf
    return pages * page_size if pages > 0 and page_size > 0 else None


def _windows_memory() -> tuple[int | None, int | None]:
    """(total, available) from GlobalMemoryStatusEx."""
    if sys.platform != "win32":
        return None, None
    import ctypes

    class MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return None, None
    return int(status.ullTotalPhys), int(status.ullAvailPhys)

"""How many threads numpy's BLAS may use. Training inside the app leaves one core to the
window: on a 2-core laptop, BLAS threads spinning on both cores made the GUI stall for
~50 ms at a time (p99), and a tiny model gains nothing from the second thread anyway."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads",
            "scipy_openblas_set_num_threads_64_")  # fmt: skip
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads",
            "scipy_openblas_get_num_threads_64_")  # fmt: skip


def set_blas_threads(count: int) -> bool:
    """Set the thread count of the OpenBLAS that numpy ships; False if it cannot be found
    (another BLAS, another platform): then nothing changes."""
    setter = _openblas_function(_SETTERS)
    if setter is None:
        return False
    setter(ctypes.c_int(count))
    return True


def blas_threads() -> int | None:
    """The thread count OpenBLAS uses now, or None if it cannot be asked."""
    getter = _openblas_function(_GETTERS)
    if getter is None:
        return None
    getter.restype = ctypes.c_int
    return int(getter())


def _openblas_function(names: tuple[str, ...]) -> Any:
    import numpy as np

    libs = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for lib in sorted(libs.glob("*openblas*")):
        try:
            handle = ctypes.CDLL(str(lib))
        except OSError:
            continue
        for name in names:
            function = getattr(handle, name, None)
            if function is not None:
                return function
    return None

"""What model-written code may use in the sandbox, and the sentence each limit gives.

The sentences are written for the person watching the chat *and* for the model, which
reads them as the tool's result and can try again with less output or a smaller input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

LimitKind = Literal["cpu", "time", "memory", "output", "disk"]
LIMIT_KINDS: tuple[LimitKind, ...] = ("cpu", "time", "memory", "output", "disk")

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class SandboxLimits:
    """Per run. Memory counts the interpreter's whole linear memory (about 18 MB of it is
    CPython itself); output counts stdout and stderr together.

    `wall_seconds` exists because a sleeping program uses no CPU: `time.sleep(10**6)` would
    never reach the CPU limit. `disk_bytes` bounds what the code writes into its folder (a
    loop writing a file would otherwise fill the user's disk within the CPU limit); every
    file or folder counts at least 4 KB, so a million empty files hit it too.
    """

    cpu_seconds: float = 5.0
    memory_bytes: int = 256 * MIB
    output_bytes: int = 64 * KIB
    wall_seconds: float = 20.0
    disk_bytes: int = 64 * MIB

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, not {value!r}")

    def as_dict(self) -> dict[str, float | int]:
        return dict(asdict(self))

    def sentence(self, kind: LimitKind) -> str:
        """What happened, in one sentence, when the code hit the limit `kind`."""
        if kind == "cpu":
            return (
                f"The code ran for more than {seconds_text(self.cpu_seconds)} of CPU time "
                "and was stopped."
            )
        if kind == "time":
            return (
                f"The code was still running after {seconds_text(self.wall_seconds)} "
                "and was stopped."
            )
        if kind == "memory":
            return (
                f"The code needed more than {size_text(self.memory_bytes)} of memory "
                "and was stopped."
            )
        if kind == "output":
            return (
                f"The code printed more than {size_text(self.output_bytes)}; the output was "
                "cut there and the code was stopped."
            )
        return (
            f"The code wrote more than {size_text(self.disk_bytes)} of files into its "
            "folder and was stopped."
        )


def seconds_text(seconds: float) -> str:
    return f"{seconds:g} s"


def size_text(n: int) -> str:
    """Binary units, so the default limits read as the round numbers they are ("256 MB",
    "64 KB"): WebAssembly memory grows in 64 KiB pages."""
    for unit, scale in (("GB", 1024 * MIB), ("MB", MIB), ("KB", KIB)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"
    return f"{n} bytes"

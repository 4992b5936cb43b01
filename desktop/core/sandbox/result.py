"""What a sandbox run gives back, and how the child's report becomes it.

The child process reports what it saw (exit status, trap, the limit its watchdog
enforced, the end of stderr); the parent adds what only it can see (a kill for the time
limit, a cancel, a child that died). `summarise` turns that into `ok`, one error sentence
and the limit that was hit.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from desktop.core.sandbox.guest_bootstrap import CODE_NAME
from desktop.core.sandbox.limits import LimitKind, SandboxLimits

CANCELLED_SENTENCE = "The run was stopped before the code finished."

# The guest's CPython is 32-bit (wasm32): a request for 2 GB or more cannot even be
# expressed, and it says so with this OverflowError instead of a MemoryError.
_TOO_BIG = "OverflowError: cannot fit 'int' into an index-sized integer"
_MEMORY_ERROR = re.compile(r"^MemoryError\b")
_TRACEBACK = "Traceback (most recent call last):"
_CODE_FRAME = f'File "{CODE_NAME}", line '  # a syntax error's traceback has only this
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(: .*)?$")


@dataclass(frozen=True)
class GuestReport:
    """What the child process saw. Crosses a process boundary: plain values only."""

    exit_code: int | None = None  # None: the run ended by a trap, not by exiting
    trap: str | None = None  # wasmtime's trap code ("interrupt", "unreachable", ...)
    stopped_for: LimitKind | None = None  # the limit the child's watchdog enforced
    stderr_tail: str = ""  # the last few KB of stderr, even when the kept output is cut
    cpu_seconds: float | None = None
    first_output_at: float | None = None  # time.monotonic() of the first byte written


@dataclass(frozen=True)
class SandboxResult:
    ok: bool  # ran to the end and exited with status 0
    stdout: str
    stderr: str
    error: str | None  # one sentence, or the exception's last line ("ZeroDivisionError: …")
    limit_hit: LimitKind | None = None
    seconds: float = 0.0  # the whole run, start-up included
    cpu_seconds: float | None = None  # the code's CPU time, when the child could tell
    exit_code: int | None = None
    cancelled: bool = False
    sandbox_failed: bool = False  # the sandbox itself could not run the code (error says why)
    first_output_seconds: float | None = None  # from the call to the first byte printed
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["limits"] = self.limits.as_dict()
        return data


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def exception_line(stderr_tail: str) -> str | None:
    """ "ZeroDivisionError: division by zero" when stderr ends with a traceback (a syntax
    error's has no "Traceback" header, only the `File "main.py"` line)."""
    line = last_line(stderr_tail)
    has_traceback = _TRACEBACK in stderr_tail or _CODE_FRAME in stderr_tail
    if has_traceback and _EXCEPTION_LINE.match(line):
        return line
    return None


def hit_memory(stderr_tail: str) -> bool:
    line = last_line(stderr_tail)
    return bool(_MEMORY_ERROR.match(line)) or line == _TOO_BIG


def summarise(
    report: GuestReport, limits: SandboxLimits
) -> tuple[bool, str | None, LimitKind | None]:
    """(ok, error, limit_hit) for a run the child saw to its end."""
    if report.stopped_for is not None:
        return False, limits.sentence(report.stopped_for), report.stopped_for
    below_minimum = report.trap is not None and "exceeds memory limits" in report.trap
    if below_minimum or (report.exit_code != 0 and hit_memory(report.stderr_tail)):
        return False, limits.sentence("memory"), "memory"
    if report.exit_code == 0:
        return True, None, None
    if report.exit_code is not None:
        exception = exception_line(report.stderr_tail)
        if exception:
            return False, exception, None
        return False, f"The code exited with status {report.exit_code}.", None
    if report.trap == "unreachable":
        return (
            False,
            (
                "The Python interpreter inside the sandbox hit a fatal error and stopped "
                "(the app is not affected)."
            ),
            None,
        )
    return False, f"The sandbox stopped the code: {report.trap or 'unknown reason'}.", None

"""The compiled sandbox interpreter, made once per test run (15-25 s) in the test run's
own data folder, before the first test that needs it."""

from __future__ import annotations

import pytest

from desktop.core.sandbox.limits import SandboxLimits
from desktop.core.sandbox.result import SandboxResult
from desktop.engine.sandbox.run_code import prepare_sandbox, run_code

# Generous time limit for the tests of the CPU limit: on two cores shared with other work,
# a second of CPU time can take several seconds to get.
PATIENT = {"wall_seconds": 120.0}


@pytest.fixture(scope="session")
def sandbox() -> None:
    prepared = prepare_sandbox()
    assert prepared.ok, prepared


def run(code: str, **limits: float) -> SandboxResult:
    result = run_code(code, SandboxLimits(**limits))  # type: ignore[arg-type]
    assert not result.sandbox_failed, result.error
    return result

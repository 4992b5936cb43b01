"""RL end to end on a tiny task: a start model made weak on purpose (fine-tuning stopped
early), then RL with the verifier's reward lifts its held-out pass@1 — in seconds, seeded,
the same every run. And the run's folder holds a model the loop can go on from."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.job_state import CancelToken
from desktop.core.reinforce.rl_run import Baseline, RLSettings, rl_job, run_rl
from desktop.core.reinforce.start_model import (
    StartModel,
    StartRecipe,
    load_start_model,
    make_start_model,
)
from desktop.core.train.run_training import Finished
from desktop.core.train.trainer import StepMetrics

# Four-letter words, a model of ~30k numbers, 300 steps of fine-tuning: right about one
# time in twenty, but its K answers sometimes include a right one (pass@K > pass@1).
WEAK = StartRecipe(difficulty=1, dim=32, n_layers=2, context=64, pretrain_steps=0,
                   sft_steps=300, target=0.0, eval_every=300, eval_problems=16,
                   eval_samples=4, max_new=24, sft_batch=16)  # fmt: skip
RL = RLSettings(steps=40, learning_rate=1e-3, eval_every=20, eval_problems=16, eval_samples=4)


@pytest.fixture(scope="module")
def weak_start(tmp_path_factory: pytest.TempPathFactory) -> StartModel:
    folder = tmp_path_factory.mktemp("start")
    made = [e for e in make_start_model(WEAK, folder, CancelToken()) if isinstance(e, StartModel)]
    assert len(made) == 1
    return made[0]


def rl_curve(start: StartModel, folder: Path | None) -> list[float]:
    curve = []
    for event in run_rl(rl_job(start, RL, folder), CancelToken()):
        if isinstance(event, Baseline) or (isinstance(event, StepMetrics) and event.evaluated):
            curve.append(event.figures["pass_at_1"])
    return curve


def test_rl_lifts_pass_at_1_from_a_weak_start(weak_start: StartModel, tmp_path: Path) -> None:
    assert weak_start.figures["pass_at_1"] <= 0.2  # weak, as asked
    curve = rl_curve(weak_start, tmp_path / "rl")
    assert len(curve) == 3  # the start, step 20, step 40
    assert curve[-1] >= curve[0] + 0.2, curve
    assert (tmp_path / "rl" / "checkpoint.npz").exists()


def test_rl_is_seeded(weak_start: StartModel) -> None:
    assert rl_curve(weak_start, None) == rl_curve(weak_start, None)


def test_a_start_model_is_read_back_from_its_folder(weak_start: StartModel) -> None:
    again = load_start_model(weak_start.folder)
    assert again.recipe == weak_start.recipe
    assert again.figures["pass_at_1"] == weak_start.figures["pass_at_1"]
    for name, value in weak_start.params.items():
        assert (again.params[name] == value).all()


def test_stopping_rl_ends_the_run_with_what_it_has(weak_start: StartModel) -> None:
    token = CancelToken()
    finished = None
    for event in run_rl(rl_job(weak_start, RL, None), token):
        if isinstance(event, StepMetrics) and event.step == 3:
            token.cancel()
        elif isinstance(event, Finished):
            finished = event.outcome
    assert finished is not None and finished.stopped_early and finished.run.step == 3

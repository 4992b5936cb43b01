"""Earlier RL runs: a run that ends writes its summary (the completion marker) last; only a
run whose marker and checkpoint are whole is usable; a run cut short is listed as
incomplete; deleting removes the folder and the record, and nothing outside the tab's
folder."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.core.job_state import CancelToken
from desktop.core.reinforce.folders import new_folder, reinforce_dir
from desktop.core.reinforce.rl_run import Baseline, RLSettings, rl_job, run_rl
from desktop.core.reinforce.rl_runs import (
    RL_CORPUS,
    RUN_FILE,
    delete_rl_run,
    read_info,
    recorded,
    rl_runs,
)
from desktop.core.reinforce.start_model import StartModel, make_start_model
from desktop.core.train.run_training import CHECKPOINT
from desktop.core.train.runs_store import RunsStore
from desktop.core.train.trainer import StepMetrics
from tests.core.test_rl_end_to_end import WEAK

TINY = RLSettings(steps=4, eval_every=2, eval_problems=4, eval_samples=2, learning_rate=1e-3)


@pytest.fixture(scope="module")
def start(tmp_path_factory: pytest.TempPathFactory) -> StartModel:
    folder = tmp_path_factory.mktemp("start")
    recipe = replace(WEAK, sft_steps=20, eval_every=20)  # a start, not a good one: fast
    made = [e for e in make_start_model(recipe, folder, CancelToken()) if isinstance(e, StartModel)]
    return made[0]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEEPDIVE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run(start: StartModel, folder: Path, token: CancelToken | None = None) -> list[object]:
    job = rl_job(start, TINY, folder)
    return list(recorded(run_rl(job, token or CancelToken()), folder, start, TINY.steps))


def test_a_finished_run_writes_its_summary_last(start: StartModel, home: Path) -> None:
    folder = new_folder(reinforce_dir() / "start-x", "rl")
    seen_marker_before_end = []
    job = rl_job(start, TINY, folder)
    for event in recorded(run_rl(job, CancelToken()), folder, start, TINY.steps):
        if isinstance(event, StepMetrics):
            seen_marker_before_end.append((folder / RUN_FILE).exists())
        if isinstance(event, Baseline):
            before = event.figures["pass_at_1"]
        if isinstance(event, StepMetrics) and event.evaluated:
            after = event.figures["pass_at_1"]
    assert seen_marker_before_end and not any(seen_marker_before_end)  # only at the end
    info = read_info(folder)
    assert info is not None
    assert (info.task, info.steps, info.planned_steps, info.stopped) == (
        start.recipe.task, 4, 4, False)  # fmt: skip
    assert info.before["pass_at_1"] == before and info.after["pass_at_1"] == after
    assert info.after_step == 4 and info.start == start.folder.name


def test_a_run_without_a_whole_marker_or_checkpoint_is_not_usable(
    start: StartModel, home: Path
) -> None:
    folder = new_folder(reinforce_dir() / "start-x", "rl")
    run(start, folder)
    assert read_info(folder) is not None
    damaged = folder.with_name("rl-damaged")
    shutil.copytree(folder, damaged)
    (damaged / RUN_FILE).write_text('{"task": "count-le', encoding="utf-8")  # cut short
    assert read_info(damaged) is None
    no_marker = folder.with_name("rl-crashed")
    shutil.copytree(folder, no_marker)
    (no_marker / RUN_FILE).unlink()
    assert read_info(no_marker) is None
    changed = folder.with_name("rl-changed")
    shutil.copytree(folder, changed)
    data = (changed / CHECKPOINT).read_bytes()
    (changed / CHECKPOINT).write_bytes(data[: len(data) // 2])  # a checkpoint not the one
    assert read_info(changed) is None


def test_runs_are_listed_newest_first_and_deleted(start: StartModel, home: Path) -> None:
    store = RunsStore(home / "app.sqlite3")
    first = new_folder(reinforce_dir() / "start-x", "rl")
    first_id = store.add(first, f"{RL_CORPUS}{start.recipe.task}", start.config)
    run(start, first)
    crashed = new_folder(reinforce_dir() / "start-x", "rl")
    crashed_id = store.add(crashed, f"{RL_CORPUS}{start.recipe.task}", start.config)
    (home / "elsewhere").mkdir()
    store.add(home / "elsewhere", "stdlib", start.config)  # a Train-tab run: not listed

    listings = rl_runs(store)
    assert [x.record.id for x in listings] == [crashed_id, first_id]
    assert [x.usable for x in listings] == [False, True]
    assert "incomplete" in listings[0].label and "no model" in listings[0].details
    info = listings[1].info
    assert info is not None
    assert f"{info.before['pass_at_1']:.0%} → {info.after['pass_at_1']:.0%}" in listings[1].label
    assert "4 steps" in listings[1].label and "finished" in listings[1].details

    delete_rl_run(store, listings[1])
    assert not first.exists() and [x.record.id for x in rl_runs(store)] == [crashed_id]
    with pytest.raises(KeyError):
        store.get(first_id)

    (home / "outside").mkdir()
    outside = store.add(home / "outside", f"{RL_CORPUS}add", start.config)
    stray = next(x for x in rl_runs(store) if x.record.id == outside)
    with pytest.raises(ValueError):
        delete_rl_run(store, stray)  # never a folder outside the tab's own
    assert (home / "outside").is_dir()
    store.close()

"""`deepdive-lab rl` and `deepdive-lab rlhf` in subprocesses: one JSON line per
evaluation with the figures the issue names, the last RL line also the start model's;
export to GGUF and RL again from that file; bad input is one sentence and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.job_state import CancelToken
from desktop.core.reinforce.start_model import StartModel, make_start_model
from tests.core.test_rl_end_to_end import WEAK

ROOT = Path(__file__).resolve().parents[1]
FIGURES = {"step", "pass_at_1", "pass_at_k", "mean_reward", "mean_length"}


@pytest.fixture(scope="module")
def start_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("start")
    made = [e for e in make_start_model(WEAK, folder, CancelToken()) if isinstance(e, StartModel)]
    assert made
    return folder


def run(*args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args], capture_output=True, text=True, cwd=ROOT,
        timeout=timeout, env={**os.environ, "DEEPDIVE_HOME": str(home)},
    )  # fmt: skip


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_rl_prints_evaluations_exports_and_starts_again_from_the_gguf(
    start_folder: Path, tmp_path: Path
) -> None:
    exported = tmp_path / "rl.gguf"
    done = run("rl", "--task", "count-letters", "--difficulty", "1", "--start", str(start_folder),
               "--steps", "20", "--samples", "8", "--lr", "1e-3", "--json",
               "--export", str(exported), home=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    assert [line["step"] for line in lines] == [0, 20]
    for line in lines:
        assert set(line) >= FIGURES
    last = lines[-1]
    assert isinstance(last["start"], dict) and last["start"]["pass_at_1"] == lines[0]["pass_at_1"]
    assert "✓" in done.stderr or "✗" in done.stderr  # graded answers, before and after
    assert exported.stat().st_size > 0

    again = run("rl", "--task", "count-letters", "--difficulty", "1", "--start", str(exported),
                "--steps", "1", "--json", home=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    first = json_lines(again.stdout)[0]
    assert first["step"] == 0 and first["pass_at_1"] == pytest.approx(last["pass_at_1"], abs=0.05)


def test_an_rl_run_made_here_is_listed_in_the_reinforce_tab(
    start_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --out the run is recorded like the tab's own: listed, whole, its figures."""
    from desktop.core.reinforce.rl_runs import rl_runs
    from desktop.core.train.runs_store import RunsStore

    done = run("rl", "--task", "count-letters", "--difficulty", "1", "--start", str(start_folder),
               "--steps", "5", "--samples", "4", "--json", "--out", str(tmp_path / "out"),
               home=tmp_path / "home")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    monkeypatch.setenv("DEEPDIVE_HOME", str(tmp_path / "home"))  # the app's, as the CLI's
    store = RunsStore()
    try:
        (listing,) = rl_runs(store)
    finally:
        store.close()
    assert listing.usable and listing.record.folder == (tmp_path / "out" / "rl").resolve()
    assert listing.record.status == "done" and listing.info is not None
    assert listing.info.steps == 5 and listing.info.task == "count-letters"
    assert listing.info.before["pass_at_1"] == lines[0]["pass_at_1"]
    assert listing.info.after["pass_at_1"] == lines[-1]["pass_at_1"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("rl", "--task", "juggle"), "juggle"),
        (("rl", "--start", "missing.gguf"), "missing.gguf"),
        (("rl", "--start", "no-such-folder"), "no-such-folder"),
        (("rlhf", "--scripted", "louder"), "louder"),
        (("rlhf", "--pairs", "missing.jsonl"), "missing.jsonl"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(args: tuple[str, ...], says: str,
                                              tmp_path: Path) -> None:  # fmt: skip
    done = run(*args, home=tmp_path, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr


def test_a_gguf_of_another_vocabulary_is_refused(tmp_path: Path) -> None:
    from tests.gguf_fixtures import make_tiny_gguf

    model = make_tiny_gguf(tmp_path / "other.gguf")
    done = run("rl", "--start", str(model), home=tmp_path, timeout=60)
    assert done.returncode == 2 and "byte vocabulary" in done.stderr


def test_rlhf_learns_a_scripted_preference_then_rl_raises_the_reward(tmp_path: Path) -> None:
    done = run("rlhf", "--scripted", "word:cat", "--pair-count", "100", "--writer-steps", "100",
               "--rm-steps", "40", "--steps", "10", "--json", home=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    reward = [line for line in lines if line["phase"] == "reward_model"]
    rl = [line for line in lines if line["phase"] == "rl"]
    assert reward and all("reward_accuracy" in line for line in reward)
    assert [line["step"] for line in rl] == [0, 10]
    assert all("mean_reward" in line for line in rl)


def test_the_rlhf_command_makes_the_writer_the_tab_makes_by_default() -> None:
    """The parser's default is a literal (importing the trainer would slow every command):
    it must be the writer the tab makes."""
    import argparse

    from desktop.cli.rl_command import add_rl_parsers
    from desktop.core.reinforce.rlhf_run import WRITER_STEPS, RLHFPlan

    parser = argparse.ArgumentParser()
    add_rl_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["rlhf", "--scripted", "shorter"])
    assert args.writer_steps == WRITER_STEPS == RLHFPlan().writer_steps

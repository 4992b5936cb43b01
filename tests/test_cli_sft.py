"""`deepdive-lab identity` and `deepdive-lab sft` in subprocesses: JSON lines per
evaluation, Ctrl+C saves and --out resumes, export; and the "I don't know" loop closed
on the command line: quiz → refusal set → sft → quiz again refuses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.posttrain_fixtures import pretrained_tiny_gguf

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pretrained_tiny_gguf(tmp_path_factory.mktemp("pretrained"))


def command(*args: str, home: Path) -> list[str]:
    return [sys.executable, "-m", "desktop", *args]


def run(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args, home=home), capture_output=True, text=True, cwd=ROOT, timeout=timeout,
        env={**os.environ, "DEEPDIVE_HOME": str(home)},
    )  # fmt: skip


def test_identity_set_then_sft_stopped_resumed_and_exported(
    pretrained: Path, tmp_path: Path
) -> None:
    identity = run("identity", "--name", "Zorblax", "--maker", "the Lab", "--count", "24",
                   "--fact", "I live in a terminal", home=tmp_path)  # fmt: skip
    assert identity.returncode == 0, identity.stderr
    lines = identity.stdout.splitlines()
    assert len(lines) == 24
    first = json.loads(lines[0])["messages"]
    assert first[0] == {"role": "user", "content": "What is your name?"}
    assert "Zorblax" in first[1]["content"]
    data = tmp_path / "identity.jsonl"
    data.write_text(identity.stdout)

    out = tmp_path / "run"
    process = subprocess.Popen(
        command("sft", "--model", str(pretrained), "--data", str(data), "--epochs", "120",
                "--out", str(out), "--json", home=tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "DEEPDIVE_HOME": str(tmp_path)},
    )  # fmt: skip
    assert process.stdout is not None
    evaluation = json.loads(process.stdout.readline())
    assert {"step", "loss", "val_loss", "tokens_per_s"} <= evaluation.keys()
    process.send_signal(signal.SIGINT)  # Ctrl+C: stops after the step, and saves
    rest, err = process.communicate(timeout=60)
    assert process.returncode == 130 or "stopped" in err, err
    stopped = max([evaluation["step"]] + [json.loads(line)["step"] for line in rest.splitlines()])

    model = tmp_path / "zorblax.gguf"
    resumed = run("sft", "--model", str(pretrained), "--out", str(out), "--json", "--export",
                  str(model), "--export-type", "Q8_0", home=tmp_path, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    steps = [json.loads(line)["step"] for line in resumed.stdout.splitlines()]
    assert steps[0] > stopped and steps[-1] == json.loads(resumed.stdout.splitlines()[-1])[
        "total_steps"]  # fmt: skip
    from desktop.core.models.model_info import read_model_info

    info = read_model_info(model)
    assert info.architecture == "llama" and info.quantization == "Q8_0"
    assert info.chat_template and "im_start" in info.chat_template
    from desktop.core.posttrain.posttrain_runs import PosttrainRuns

    store = PosttrainRuns(tmp_path / "deepdive.sqlite3")
    (record,) = store.runs()  # listed once, though trained twice: the tab shows it
    assert record.status == "done" and record.folder == out.resolve()
    store.close()


def test_bad_input_is_one_line(pretrained: Path, tmp_path: Path) -> None:
    missing = run("sft", "--model", str(pretrained), "--data", str(tmp_path / "no.jsonl"),
                  home=tmp_path)  # fmt: skip
    assert missing.returncode == 2 and missing.stderr.startswith("error:")
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n{}\n")
    nothing = run("sft", "--model", str(pretrained), "--data", str(junk), home=tmp_path)
    assert nothing.returncode == 2 and "nothing to train on" in nothing.stderr
    assert "line 1: not JSON" in nothing.stderr and "Traceback" not in nothing.stderr
    not_llama = tmp_path / "x.gguf"
    not_llama.write_bytes(b"GGUF" + b"\0" * 30)
    refused = run("sft", "--model", str(not_llama), "--data", str(junk), home=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_i_dont_know_quiz_refusal_set_sft_and_the_quiz_again_refuses(
    pretrained: Path, tmp_path: Path
) -> None:
    """The Llama 3 recipe on the Train tab's tiny model: it knows nothing of the invented
    Velmora; the quiz writes the refusal set; after fine-tuning on it the same quiz is
    refused on at least 90 % of its answers."""
    from desktop.core.quiz.quiz_store import QuizStore

    refusals = tmp_path / "velmora.jsonl"
    before = run("quiz", "--model", str(pretrained), "--article", "velmora", "--samples", "3",
                 "--export-sft", str(refusals), "--json", home=tmp_path)  # fmt: skip
    assert before.returncode == 0, before.stderr
    examples = [json.loads(line) for line in refusals.read_text().splitlines()]
    assert len(examples) == 8 and all("know" in e["messages"][1]["content"] for e in examples)

    tuned = tmp_path / "velmora-sft.gguf"
    sft = run("sft", "--model", str(pretrained), "--data", str(refusals), "--epochs", "150",
              "--held-out", "0", "--export", str(tuned), home=tmp_path, timeout=300)  # fmt: skip
    assert sft.returncode == 0, sft.stderr
    after = run("quiz", "--model", str(tuned), "--article", "velmora", "--samples", "3",
                "--json", home=tmp_path)  # fmt: skip
    assert after.returncode == 0, after.stderr

    store = QuizStore(tmp_path / "deepdive.sqlite3")
    first, second = sorted(store.runs(), key=lambda r: r.id)
    grades_before = Counter(a.grade for a in store.answers(first.id))
    grades_after = Counter(a.grade for a in store.answers(second.id))
    store.close()
    assert grades_before["NOT_ATTEMPTED"] / sum(grades_before.values()) < 0.5
    assert grades_after["NOT_ATTEMPTED"] / sum(grades_after.values()) >= 0.9, grades_after

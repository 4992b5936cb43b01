"""The one background-job shape widgets use: a kind at a time, answers only from the
current job, partial results in order, one shutdown for the whole window."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QObject

from desktop.engine.background import BackgroundJob, JobControl
from desktop.engine.jobs import Jobs

WAIT_MS = 10_000


@pytest.fixture
def owner(qtbot: Any) -> QObject:
    return QObject()


def wait_until_cancelled(started: threading.Event, value: str) -> Callable[[JobControl], str]:
    def work(control: JobControl) -> str:
        started.set()
        while not control.cancelled():
            threading.Event().wait(0.01)
        return value

    return work


def test_a_newer_job_of_a_kind_cancels_the_older_whose_answer_never_arrives(
    qtbot: Any, owner: QObject
) -> None:
    jobs = Jobs(owner)
    answers: list[str] = []
    first_started = threading.Event()
    first = jobs.start("search", wait_until_cancelled(first_started, "old"), done=answers.append)
    assert first_started.wait(5)
    jobs.start("search", lambda _c: "new", done=answers.append)
    qtbot.waitUntil(lambda: answers == ["new"], timeout=WAIT_MS)
    assert first.control.cancelled()
    qtbot.waitUntil(lambda: not first.running, timeout=WAIT_MS)
    qtbot.wait(100)  # the old job's queued answer would have been delivered by now
    assert answers == ["new"]
    assert jobs.current("search") is None  # finished jobs leave the list


def test_kinds_run_side_by_side_and_failures_reach_their_own_callback(
    qtbot: Any, owner: QObject
) -> None:
    jobs = Jobs(owner)
    done: list[object] = []
    failed: list[BaseException] = []

    def broken(_c: JobControl) -> None:
        raise ValueError("no such repository")

    jobs.start("files", lambda _c: ["a.gguf"], done=done.append, failed=failed.append)
    jobs.start("header", broken, done=done.append, failed=failed.append)
    qtbot.waitUntil(lambda: len(done) + len(failed) == 2, timeout=WAIT_MS)
    assert done == [["a.gguf"]]
    assert [str(e) for e in failed] == ["no such repository"]


def test_partial_results_arrive_in_order_and_the_last_progress_before_done(
    qtbot: Any, owner: QObject
) -> None:
    jobs = Jobs(owner)
    events: list[tuple[str, object]] = []

    def steps(control: JobControl) -> str:
        for step in range(500):  # faster than the GUI polls: published items are batched
            control.publish(step)
            control.progress(step + 1, 500)
        return "saved"

    jobs.start(
        "training", steps,
        done=lambda v: events.append(("done", v)),
        progress=lambda d, t: events.append(("progress", (d, t))),
        partial=lambda items: events.extend(("step", i) for i in items),
    )  # fmt: skip
    qtbot.waitUntil(lambda: bool(events) and events[-1][0] == "done", timeout=WAIT_MS)
    assert [v for kind, v in events if kind == "step"] == list(range(500))
    last_progress = [v for kind, v in events if kind == "progress"][-1]
    assert last_progress == (500, 500)
    assert events.index(("step", 499)) < events.index(("done", "saved"))


def test_stop_still_delivers_how_the_work_ended(qtbot: Any, owner: QObject) -> None:
    """A training run told to stop saves its checkpoint and says so; cancel drops it."""
    jobs = Jobs(owner)
    answers: list[str] = []
    started = threading.Event()
    jobs.start("training", wait_until_cancelled(started, "saved at step 7"), done=answers.append)
    assert started.wait(5)
    jobs.stop("training")
    qtbot.waitUntil(lambda: answers == ["saved at step 7"], timeout=WAIT_MS)


def test_pause_holds_the_work_until_resumed(qtbot: Any, owner: QObject) -> None:
    jobs = Jobs(owner)
    seen: list[int] = []
    release = threading.Event()

    def counting(control: JobControl) -> int:
        count = 0
        while not release.is_set() or control.paused():
            if not control.paused():
                count += 1
                control.publish(count)
            threading.Event().wait(0.005)
        return count

    jobs.start("training", counting, partial=seen.extend, done=lambda _v: None)
    qtbot.waitUntil(lambda: len(seen) > 3, timeout=WAIT_MS)
    jobs.pause("training")
    qtbot.wait(150)  # anything published before the pause took effect arrives
    held = len(seen)
    qtbot.wait(200)
    assert len(seen) == held
    jobs.resume("training")
    qtbot.waitUntil(lambda: len(seen) > held, timeout=WAIT_MS)
    release.set()
    qtbot.waitUntil(lambda: not jobs.running("training"), timeout=WAIT_MS)


def test_shutdown_all_ends_every_widgets_work_from_one_call(qtbot: Any) -> None:
    owners = [QObject(), QObject()]
    started = [threading.Event(), threading.Event()]
    answers: list[str] = []
    running = []
    for owner, flag in zip(owners, started, strict=True):
        jobs = Jobs(owner)
        running.append(jobs.start("scan", wait_until_cancelled(flag, "x"), done=answers.append))
    assert all(flag.wait(5) for flag in started)
    assert Jobs.shutdown_all(timeout=5)
    assert not any(job.running for job in running)
    assert BackgroundJob.cancel_all(0.1)  # nothing left anywhere
    qtbot.wait(50)
    assert answers == []

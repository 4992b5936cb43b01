"""The Reinforce tab with pytest-qt: make a (tiny) start model, run RL and see its curves
and graded answers, stop it, export it into the library and ask to chat with it, spend
the same time on more SFT; earlier RL runs are listed, reopened, exported and deleted, and
one cut short is never offered; on the RLHF page a vote is stored as a preference pair,
the scripted rule adds pairs, the reward model trains and RL runs against it, and both
pause and resume."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.core.reinforce.rlhf_run import WRITER_RECIPE
from desktop.core.storage.preferences import PreferenceStore
from desktop.core.train.runs_store import RunsStore
from tests.core.test_rl_end_to_end import WEAK


@pytest.fixture
def make_tab(qtbot: Any, fresh_home: Path) -> Iterator[Callable[[], Any]]:
    from desktop.ui.reinforce.reinforce_tab import ReinforceTab

    tabs: list[ReinforceTab] = []

    def make() -> ReinforceTab:
        db = fresh_home / "app.sqlite3"
        tab = ReinforceTab(RunsStore(db), PreferenceStore(db))
        qtbot.addWidget(tab)
        tab.resize(1024, 660)
        tab.show()
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()


def make_tiny_start(qtbot: Any, page: Any) -> None:
    c = page.controls
    c.recipe_base = WEAK  # a ~30k-number model: seconds, not minutes
    c.difficulty.setValue(WEAK.difficulty)
    c.pretrain_steps.setValue(0)
    c.sft_steps.setValue(WEAK.sft_steps)
    c.make_button.click()
    qtbot.waitUntil(lambda: page.start_model is not None and not page.busy, timeout=120_000)


def test_make_a_start_model_run_rl_stop_export_and_compare(
    qtbot: Any, make_tab: Callable[[], Any], tmp_path: Path
) -> None:
    tab = make_tab()
    page = tab.rl_page
    c = page.controls
    assert not c.run_button.isEnabled()  # nothing to start from yet
    running: list[bool] = []
    tab.running_changed.connect(running.append)

    make_tiny_start(qtbot, page)
    assert c.start.count() == 1 and c.run_button.isEnabled()
    assert "Start model ready" in c.status.text()
    assert running[0] is True and running[-1] is False

    c.steps.setValue(400)
    c.learning_rate.setValue(1e-3)
    c.run_button.click()
    progress = page.progress
    qtbot.waitUntil(lambda: len(progress.passes.data("pass@1")[0]) >= 2, timeout=120_000)
    assert progress.passes.data("pass@1")[0][0] == 0  # the start model is step 0
    assert progress.reward.data("mean reward")[0]  # the practice answers' reward
    assert progress.length.data("mean length")[1][0] > 0
    assert (
        "✓" in progress.samples.before.toPlainText() or "✗" in progress.samples.before.toPlainText()
    )
    assert progress.samples.now.toPlainText()
    c.stop_button.click()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert page.outcome is not None and page.outcome.stopped_early
    assert page.outcome.run.step < 400 and "Stopped" in c.status.text()

    chats: list[str] = []
    tab.chat_requested.connect(chats.append)
    page.export(tmp_path / "library")
    qtbot.waitUntil(lambda: bool(chats), timeout=60_000)
    exported = Path(chats[0])
    assert exported.is_file() and exported.suffix == ".gguf"
    assert exported.parent == tmp_path / "library" / "trained"

    page.start_from_file(exported)  # RL can go on from the exported model
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert c.start.count() == 2 and "Start model ready" in c.status.text()
    assert page.start_model is not None and page.start_model.figures["pass_at_1"] >= 0

    c.compare_button.click()  # the same training time on more SFT
    qtbot.waitUntil(lambda: not page.busy, timeout=120_000)
    assert progress.compare.data("more SFT")[0] and progress.compare.data("RL")[0]
    assert "Same training time" in c.status.text()


def test_rlhf_vote_scripted_pairs_reward_model_and_rl(
    qtbot: Any, make_tab: Callable[[], Any], fresh_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop.ui.reinforce.rlhf_page as rlhf_page

    monkeypatch.setattr(rlhf_page, "WRITER_RECIPE", replace(WRITER_RECIPE, dim=32))
    tab = make_tab()
    page = tab.rlhf_page
    c = page.controls
    assert not c.reward_button.isEnabled()  # no writer yet
    c.writer_steps.setValue(60)
    c.make_writer_button.click()
    qtbot.waitUntil(lambda: page.writer is not None and not page.busy, timeout=120_000)
    assert page.picker.a_button.isEnabled() and page.picker.prompt.text()

    prompt = page._pair[0]
    page.picker.b_button.click()
    stored = PreferenceStore(fresh_home / "app.sqlite3").pairs()
    assert len(stored) == 1 and stored[0].prompt == prompt and stored[0].source == "rlhf"
    page.picker.tie_button.click()
    assert "2 pairs stored: 2 voted here" in c.pairs_status.text()

    c.rule.setCurrentIndex(c.rule.findData("shorter"))  # decides nearly every pair
    c.pair_count.setValue(60)
    c.scripted_button.click()
    qtbot.waitUntil(lambda: not page.busy, timeout=120_000)
    assert "by a rule" in c.pairs_status.text()
    scripted = page.preferences.pairs(source="scripted")
    assert len(scripted) >= 10  # a 60-step writer's answers are often ill formed: ties
    rule = c.preference()
    assert all(rule.score(p.chosen) > rule.score(p.rejected) for p in scripted)

    exported = fresh_home / "pairs.jsonl"
    page.export_pairs(exported)
    assert len(exported.read_text(encoding="utf-8").splitlines()) == len(page.preferences.pairs())

    c.reward_steps.setValue(30)
    c.reward_button.click()
    qtbot.waitUntil(lambda: page.reward is not None and not page.busy, timeout=120_000)
    assert page.reward_curves.data("held out")[1]
    assert "held-out pairs" in c.reward_status.text()

    c.rl_steps.setValue(4)
    c.rl_button.click()
    qtbot.waitUntil(lambda: not page.busy, timeout=120_000)
    steps = page.rl_reward.data("mean reward")[0]
    assert steps[0] == 0 and steps[-1] == 4
    assert "reward" in page.samples.now.toPlainText()


def test_earlier_rl_runs_are_listed_reopened_exported_and_deleted(
    qtbot: Any, make_tab: Callable[[], Any], fresh_home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from PySide6.QtWidgets import QMessageBox, QScrollArea

    from desktop.core.reinforce.rl_runs import RUN_FILE

    page = make_tab().rl_page
    earlier = page.controls.earlier
    assert earlier.row.combo.count() == 0 and not earlier.open_button.isEnabled()
    make_tiny_start(qtbot, page)
    page.controls.steps.setValue(20)  # one evaluation, at the end
    page.controls.run_button.click()
    qtbot.waitUntil(lambda: not page.busy and page.outcome is not None, timeout=120_000)
    _steps, passes = page.progress.passes.data("pass@1")
    assert len(passes) == 2  # before, and after step 20
    assert earlier.row.combo.count() == 1
    listed = earlier.chosen()
    assert listed is not None and listed.usable
    assert "20 steps" in listed.label and listed.task in listed.label
    assert f"{passes[0]:.0%} → {passes[1]:.0%}" in listed.label
    assert "finished" in earlier.details.text() and listed.record.folder.parent.name in (
        earlier.details.text())  # fmt: skip
    assert earlier.open_button.isEnabled() and earlier.delete_button.isEnabled()

    # A run cut short (no completion marker), newer than the finished one: listed, never
    # offered to open, export or chat.
    folder = listed.record.folder
    crashed = folder.with_name(folder.name + "-crashed")
    shutil.copytree(folder, crashed)
    (crashed / RUN_FILE).unlink()
    store = RunsStore(fresh_home / "app.sqlite3")
    crashed_id = store.add(crashed, listed.record.corpus, listed.record.config)

    again = make_tab().rl_page  # a later session: the runs come from the disk and the table
    rows = again.controls.earlier
    assert [x.record.id for x in rows.listings] == [crashed_id, listed.record.id]
    assert rows.chosen().record.id == crashed_id and "incomplete" in rows.row.combo.currentText()
    assert not rows.open_button.isEnabled() and rows.delete_button.isEnabled()
    assert not again.open_run(crashed_id) and again.outcome is None
    assert not again.controls.export_button.isEnabled()
    column = again.findChild(QScrollArea).horizontalScrollBar()
    qtbot.waitUntil(lambda: column.maximum() == 0, timeout=2_000)  # long labels fit at 1024

    assert again.open_run(listed.record.id)  # its curves, its start model, then export
    steps, reopened = again.progress.passes.data("pass@1")
    assert steps == [0, 20] and reopened == passes
    assert again.start_model is not None and again.start_model.folder == folder.parent
    assert again.controls.export_button.isEnabled()
    chats: list[str] = []
    again.chat_requested.connect(chats.append)
    again.export(tmp_path / "library")
    qtbot.waitUntil(lambda: bool(chats), timeout=60_000)
    assert Path(chats[0]).is_file() and "rl-count-letters" in Path(chats[0]).name

    rows.row.combo.setCurrentIndex(1)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    rows.delete_button.click()
    assert folder.is_dir() and rows.row.combo.count() == 2  # asked, and not deleted
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    rows.delete_button.click()
    assert not folder.exists() and [x.record.id for x in rows.listings] == [crashed_id]
    assert again.outcome is None and not again.controls.export_button.isEnabled()
    assert [r.id for r in store.runs()] == [crashed_id]
    store.close()


def test_rlhf_training_pauses_and_resumes(
    qtbot: Any, make_tab: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop.ui.reinforce.rlhf_page as rlhf_page

    monkeypatch.setattr(rlhf_page, "WRITER_RECIPE", replace(WRITER_RECIPE, dim=32))
    page = make_tab().rlhf_page
    c = page.controls
    assert not c.pause_button.isEnabled()
    c.writer_steps.setValue(60)
    c.make_writer_button.click()
    qtbot.waitUntil(lambda: page.writer is not None and not page.busy, timeout=120_000)
    c.rule.setCurrentIndex(c.rule.findData("shorter"))
    c.pair_count.setValue(60)
    c.scripted_button.click()
    assert not c.pause_button.isEnabled()  # the rule's votes are not steps: nothing to hold
    qtbot.waitUntil(lambda: not page.busy, timeout=120_000)

    def pause_and_resume(running_text: Callable[[], str]) -> None:
        qtbot.waitUntil(lambda: page.step >= 2, timeout=120_000)
        c.pause_button.click()
        assert c.pause_button.text() == "Resume" and "Paused" in c.status.text()
        qtbot.wait(300)  # the step under way when Pause came ends and is reported
        held = page.step
        qtbot.wait(1500)
        assert page.step == held and page.busy  # no step while paused, the job alive
        text = running_text()
        c.pause_button.click()
        assert c.pause_button.text() == "Pause" and "Paused" not in c.status.text()
        qtbot.waitUntil(lambda: page.step > held, timeout=120_000)
        assert running_text() != text
        c.stop_button.click()
        qtbot.waitUntil(lambda: not page.busy, timeout=120_000)

    c.reward_steps.setValue(5000)  # far more than the test waits for
    c.reward_button.click()
    pause_and_resume(c.reward_status.text)
    assert page.reward is not None  # stopped, it is still a reward model to RL against

    c.rl_steps.setValue(5000)
    c.rl_button.click()
    pause_and_resume(c.rl_status.text)
    assert page.step < 5000 and not c.pause_button.isEnabled()

"""The Reinforce tab with pytest-qt: make a (tiny) start model, run RL and see its curves
and graded answers, stop it, export it into the library and ask to chat with it, spend
the same time on more SFT; on the RLHF page a vote is stored as a preference pair, the
scripted rule adds pairs, the reward model trains and RL runs against it."""

from __future__ import annotations

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


def test_make_a_start_model_run_rl_stop_export_and_compare(
    qtbot: Any, make_tab: Callable[[], Any], tmp_path: Path
) -> None:
    tab = make_tab()
    page = tab.rl_page
    c = page.controls
    c.recipe_base = WEAK  # a ~30k-number model: seconds, not minutes
    c.difficulty.setValue(WEAK.difficulty)
    c.pretrain_steps.setValue(0)
    c.sft_steps.setValue(WEAK.sft_steps)
    assert not c.run_button.isEnabled()  # nothing to start from yet
    running: list[bool] = []
    tab.running_changed.connect(running.append)

    c.make_button.click()
    qtbot.waitUntil(lambda: page.start_model is not None and not page.busy, timeout=120_000)
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

"""The Train tab with pytest-qt: start, see curves and samples arrive, pause, resume,
stop, export a GGUF that the library reads and Chat can open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

TEXT = "The loss falls as the model learns. Samples turn from noise into words. " * 300


@pytest.fixture
def tab(qtbot: Any, tmp_path: Path) -> Any:
    from desktop.ui.train.train_tab import TrainTab

    t = TrainTab()
    qtbot.addWidget(t)
    t.resize(1200, 760)
    t.show()
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    t.settings.set_corpus_file(corpus)
    for key, value in {"n_layers": 1, "dim": 32, "n_heads": 2, "context": 32,
                       "batch_size": 4, "steps": 3000, "vocab_size": 300}.items():  # fmt: skip
        t.settings.spins[key].setValue(value)
    yield t
    t.shutdown()


def test_start_pause_resume_stop_export(qtbot: Any, tab: Any, tmp_path: Path) -> None:
    from desktop.core.models.model_info import read_model_info

    assert (
        "parameters" in tab.settings.summary.text()
        and "per parameter" in tab.settings.summary.text()
    )
    merges: list[tuple[int, int]] = []
    tab.session.preparing.connect(lambda done, total: merges.append((done, total)))
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    qtbot.waitUntil(lambda: bool(merges) and merges[-1][0] == merges[-1][1], timeout=30_000)
    qtbot.waitUntil(lambda: len(tab.plots.curve_data("train")[0]) >= 30, timeout=30_000)
    qtbot.waitUntil(lambda: tab.samples.count() >= 1, timeout=30_000)  # every 50 steps
    assert tab.samples.item(0).text().startswith("step ")
    assert len(tab.plots.curve_data("validation")[0]) >= 1
    assert "tokens/s" in tab.figures.text()
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    paused_at = tab.session.run.step
    qtbot.wait(400)
    assert tab.session.run.step <= paused_at + 1  # at most the step under way
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)  # Resume
    qtbot.waitUntil(lambda: tab.session.run.step > paused_at + 5, timeout=30_000)
    with qtbot.waitSignal(tab.session.finished, timeout=30_000):
        qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    assert tab.outcome is not None and tab.outcome.stopped_early
    assert (tab.outcome.folder / "checkpoint.npz").exists()
    assert (tab.outcome.folder / "tokenizer.json").exists()
    assert tab.export_button.isEnabled()
    with qtbot.waitSignal(tab.chat_requested, timeout=30_000) as chat:
        tab.export(tmp_path / "library")
    exported = Path(chat.args[0])
    info = read_model_info(exported)
    assert info.architecture == "llama" and info.has_chat_template
    assert info.vocab_size == tab.outcome.tokenizer.n_vocab


def test_runs_are_listed_reopened_and_resumed(qtbot: Any, tab: Any) -> None:
    tab.settings.spins["steps"].setValue(3000)
    tab.start()
    qtbot.waitUntil(lambda: tab.session.run is not None and tab.session.run.step >= 30,
                    timeout=30_000)  # fmt: skip
    with qtbot.waitSignal(tab.session.finished, timeout=30_000):
        tab.session.stop()
    (record,) = tab.store.runs()
    assert record.status == "stopped" and record.step >= 30
    assert tab.runs.count() == 1 and "stopped" in tab.runs.itemText(0)
    tab.plots.clear()
    assert tab.open_run(record.id)
    assert len(tab.plots.curve_data("train")[0]) == record.step  # the saved curve
    assert tab.resume_run(record.id)
    qtbot.waitUntil(lambda: tab.session.run.step > record.step + 10, timeout=30_000)
    with qtbot.waitSignal(tab.session.finished, timeout=30_000):
        tab.session.stop()
    assert tab.store.get(record.id).step > record.step


def test_reuse_a_tokenizer_and_export_q8(qtbot: Any, tab: Any, tmp_path: Path) -> None:
    from desktop.core.models.model_info import read_model_info

    tab.settings.spins["steps"].setValue(60)
    with qtbot.waitSignal(tab.session.finished, timeout=60_000):
        tab.start()
    first = tab.outcome.tokenizer
    reuse = tab.settings.tokenizer.findText("Reuse", Qt.MatchFlag.MatchStartsWith)
    assert reuse > 0
    tab.settings.tokenizer.setCurrentIndex(reuse)
    with qtbot.waitSignal(tab.session.finished, timeout=60_000):
        tab.start()
    assert tab.outcome.tokenizer.ranks == first.ranks  # the same tokens, not retrained
    tab.export_type.setCurrentText("Q8_0")
    with qtbot.waitSignal(tab.exported, timeout=30_000) as exported:
        tab.export(tmp_path / "library")
    assert read_model_info(exported.args[0]).quantization == "Q8_0"
    tab.by_tokens.setChecked(True)
    xs, _ = tab.plots.curve_data("train")
    assert xs[-1] == tab.outcome.run.tokens_seen


def test_the_reinforce_tabs_runs_are_not_offered_as_pretraining_runs(
    tab: Any, tmp_path: Path
) -> None:
    from desktop.core.reinforce.rl_runs import RL_CORPUS
    from desktop.core.train.config import preset

    pretraining, rl = tmp_path / "pretraining", tmp_path / "rl"
    pretraining.mkdir()
    rl.mkdir()
    kept = tab.store.add(pretraining, "stdlib", preset("tiny"))
    tab.store.add(rl, f"{RL_CORPUS}count-letters", preset("tiny"))  # resuming it would break it
    tab._reload_runs()
    assert [tab.runs.itemData(i) for i in range(tab.runs.count())] == [kept]


def test_a_young_models_control_characters_show_as_bytes_not_boxes() -> None:
    """A font draws \\x02 as an empty box; the samples show ‹02›, as the Tokens tab shows
    bytes. Newlines and tabs stay what they are."""
    from desktop.ui.train.sample_list import sample_html, visible_text

    assert visible_text("\x02Y\x14<ation\n\tend\x7f") == "‹02›Y‹14›<ation\n\tend‹7F›"
    assert "‹02›" in sample_html("step 50", "\x02Y") and "\x02" not in sample_html("s", "\x02Y")

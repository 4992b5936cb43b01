"""The training session's worker: Pause holds the tokenizer's training too, not only steps."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot

from desktop.core.train.config import preset


class Recorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.preparing: list[tuple[int, int]] = []
        self.outcomes: list[Any] = []

    @Slot(object, object)
    def on_preparing(self, done: int, total: int) -> None:
        self.preparing.append((done, total))

    @Slot(object)
    def on_done(self, outcome: Any) -> None:
        self.outcomes.append(outcome)


def test_pause_during_tokenizer_training(qtbot: Any, tmp_path: Path) -> None:
    from desktop.engine.training_session import TrainingSession

    rng = random.Random(0)
    syllables = ["ka", "lo", "mi", "ren", "tos", "va", "quel", "dr", "ith", "om", "pa", "zu"]
    words = ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(60_000)]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(" ".join(words))
    config = preset("tiny", vocab_size=4096, steps=5, eval_every=5)
    session = TrainingSession()
    got = Recorder()
    session.preparing.connect(got.on_preparing)
    session.finished.connect(got.on_done)
    session.start(config, str(corpus), tmp_path / "run")
    try:
        qtbot.waitUntil(lambda: bool(got.preparing), timeout=20_000)
        session.pause()
        qtbot.wait(300)  # the merge under way ends, then the worker holds
        held = len(got.preparing)
        qtbot.wait(500)
        assert len(got.preparing) == held and not got.outcomes
        assert got.preparing[-1][0] < got.preparing[-1][1]  # held mid-way, not finished
        session.resume()
        qtbot.waitUntil(lambda: bool(got.outcomes), timeout=60_000)
    finally:
        session.shutdown()
    assert not got.outcomes[0].stopped_early and got.outcomes[0].run.step == 5


def test_a_resumed_run_says_when_its_corpus_changed(tmp_path: Path) -> None:
    from desktop.core.train.run_training import corpus_note

    assert corpus_note(tmp_path, "first text", resuming=False) == ""
    assert corpus_note(tmp_path, "first text", resuming=True) == ""
    assert "corpus changed" in corpus_note(tmp_path, "other text", resuming=True)
    assert corpus_note(tmp_path, "other text", resuming=True) == ""  # now the run's corpus

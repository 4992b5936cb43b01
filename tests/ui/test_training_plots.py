"""The Train tab's curves: buffered adds drawn by the timer, smoothing, axes, history."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from desktop.core.train.trainer import StepMetrics
from desktop.ui.train.training_plots import TrainingPlots

TOKENS_PER_STEP = 512


def metrics(step: int, loss: float, *, val: float | None = None) -> StepMetrics:
    return StepMetrics(
        step=step,
        total_steps=1000,
        tokens_seen=step * TOKENS_PER_STEP,
        loss=loss,
        learning_rate=1e-3 * step / 1000,
        grad_norm=1.0,
        elapsed_s=step * 0.01,
        tokens_per_s=TOKENS_PER_STEP / 0.01,
        val_loss=val,
        train_eval_loss=None if val is None else loss,
    )


@pytest.fixture
def plots(qtbot: Any) -> TrainingPlots:
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    return widget


def drawn(plots: TrainingPlots, name: str) -> int:
    return len(plots.curve_data(name)[0])


def test_adds_are_drawn_after_the_timer_drains(plots: TrainingPlots, qtbot: Any) -> None:
    for step in range(1, 11):
        plots.add(metrics(step, 5.0 - 0.1 * step))
    assert drawn(plots, "train") == 0  # add() only buffers
    qtbot.waitUntil(lambda: drawn(plots, "train") == 10)
    x, y = plots.curve_data("train")
    np.testing.assert_array_equal(x, np.arange(1, 11))
    np.testing.assert_allclose(y, 5.0 - 0.1 * np.arange(1, 11))
    x, lr = plots.curve_data("learning rate")
    np.testing.assert_array_equal(x, np.arange(1, 11))
    np.testing.assert_allclose(lr, 1e-3 * np.arange(1, 11) / 1000)


def test_smoothed_starts_at_first_loss_and_lags_a_falling_loss(
    plots: TrainingPlots, qtbot: Any
) -> None:
    losses = np.linspace(8.0, 3.0, 50)
    for step, loss in enumerate(losses, start=1):
        plots.add(metrics(step, float(loss)))
    qtbot.waitUntil(lambda: drawn(plots, "smoothed") == 50)
    _, smoothed = plots.curve_data("smoothed")
    assert smoothed[0] == pytest.approx(losses[0])
    assert np.all(smoothed[1:] > losses[1:])  # behind a falling loss
    assert np.all(np.diff(smoothed) < 0)  # but still following it down
    assert np.all(smoothed <= losses[0])


def test_validation_points_only_at_eval_steps(plots: TrainingPlots, qtbot: Any) -> None:
    for step in range(1, 101):
        val = 4.0 - step / 100 if step % 25 == 0 else None
        plots.add(metrics(step, 4.0, val=val))
    qtbot.waitUntil(lambda: drawn(plots, "train") == 100)
    x, y = plots.curve_data("validation")
    np.testing.assert_array_equal(x, [25, 50, 75, 100])
    np.testing.assert_allclose(y, [3.75, 3.5, 3.25, 3.0])


def test_x_axis_switches_to_tokens_and_back(plots: TrainingPlots, qtbot: Any) -> None:
    for step in range(1, 21):
        plots.add(metrics(step, 3.0, val=2.5 if step == 20 else None))
    qtbot.waitUntil(lambda: drawn(plots, "train") == 20)
    plots.set_x_axis(True)
    for name in ("train", "smoothed", "learning rate"):
        np.testing.assert_array_equal(plots.curve_data(name)[0], np.arange(1, 21) * TOKENS_PER_STEP)
    np.testing.assert_array_equal(plots.curve_data("validation")[0], [20 * TOKENS_PER_STEP])
    # points added while on tokens stay on tokens
    plots.add(metrics(21, 3.0))
    qtbot.waitUntil(lambda: drawn(plots, "train") == 21)
    assert plots.curve_data("train")[0][-1] == 21 * TOKENS_PER_STEP
    plots.set_x_axis(False)
    np.testing.assert_array_equal(plots.curve_data("train")[0], np.arange(1, 22))


def test_set_history_redraws_a_saved_run(plots: TrainingPlots, qtbot: Any) -> None:
    plots.add(metrics(1, 9.0))
    qtbot.waitUntil(lambda: drawn(plots, "train") == 1)
    history: list[dict[str, Any]] = [
        {"step": s, "tokens": s * 100, "loss": 6.0 - s * 0.01, "lr": 1e-4} for s in range(1, 201)
    ]
    history[99] |= {"val_loss": 5.5, "train_eval_loss": 5.2}
    history[199] |= {"val_loss": 5.0, "train_eval_loss": 4.6}
    plots.set_history(history)
    qtbot.waitUntil(lambda: drawn(plots, "train") == 200)
    x, y = plots.curve_data("train")
    assert x[0] == 1 and y[0] == pytest.approx(5.99)  # the old point is gone
    assert plots.curve_data("smoothed")[1][0] == pytest.approx(5.99)  # EMA restarted
    np.testing.assert_array_equal(plots.curve_data("validation")[0], [100, 200])
    plots.set_x_axis(True)
    np.testing.assert_array_equal(plots.curve_data("validation")[0], [10_000, 20_000])


def test_clear_empties_every_curve(plots: TrainingPlots, qtbot: Any) -> None:
    for step in range(1, 31):
        plots.add(metrics(step, 2.0, val=1.9 if step == 30 else None))
    qtbot.waitUntil(lambda: drawn(plots, "validation") == 1)
    plots.clear()
    for name in ("train", "smoothed", "validation", "learning rate"):
        assert drawn(plots, name) == 0
    plots.add(metrics(1, 7.0))
    qtbot.waitUntil(lambda: drawn(plots, "smoothed") == 1)
    assert plots.curve_data("smoothed")[1][0] == pytest.approx(7.0)


def test_twenty_thousand_adds_then_one_drain(plots: TrainingPlots, qtbot: Any) -> None:
    plots.resize(900, 500)
    plots.show()
    n = 20_000
    for step in range(1, n + 1):
        plots.add(metrics(step, 10.0 / np.sqrt(step), val=1.0 if step % 1000 == 0 else None))
    qtbot.waitUntil(lambda: drawn(plots, "train") == n)
    x, y = plots.curve_data("train")
    assert x[-1] == n and y[-1] == pytest.approx(10.0 / np.sqrt(n))
    assert drawn(plots, "smoothed") == n and drawn(plots, "learning rate") == n
    assert drawn(plots, "validation") == n // 1000
    plots.grab()  # paints through clipping and downsampling without error


def test_tick_labels_are_compact() -> None:
    from desktop.ui.train.training_plots import _compact

    assert [_compact(v, 5e6) for v in (0, 5e6, 1.5e7)] == ["0", "5M", "15M"]
    assert [_compact(v, 500) for v in (500, 2500)] == ["500", "2500"]
    assert [_compact(v, 5e-5) for v in (5e-5, 1e-4, 1.5e-4)] == ["5e-5", "1e-4", "1.5e-4"]
    assert [_compact(v, 0.25) for v in (2, 2.25)] == ["2", "2.25"]


def test_the_x_range_grows_in_steps_until_the_user_takes_over(
    plots: TrainingPlots, qtbot: Any
) -> None:
    """Each change of the x range re-lays out the axis labels: it may change only when the
    curve outgrows it, to the next 1-2-5 step; a finished run fits its curve; once the user
    pans, their view stays."""
    from desktop.ui.train.training_plots import stepped_end

    assert [stepped_end(v) for v in (0, 1, 9, 10, 95, 96, 180, 4000)] == [
        1, 2, 10, 20, 100, 200, 200, 5000]  # fmt: skip
    box = plots._loss_plot.getViewBox()
    ends: list[float] = []
    box.sigXRangeChanged.connect(lambda *_: ends.append(box.viewRange()[0][1]))
    for step in range(1, 301):
        plots.add(metrics(step, 5.0 - step * 0.001))
        plots._drain()  # one redraw per step: the worst case
    assert box.viewRange()[0] == [0, 500]
    assert sorted(set(ends)) == [2, 5, 10, 20, 50, 100, 200, 500]
    plots.settle()  # the run ended: no room left for steps that will not come
    assert box.viewRange()[0] == pytest.approx([0, 306])
    box.sigRangeChangedManually.emit([True, False])  # as a drag does
    box.setXRange(100, 150, padding=0)
    for step in range(301, 600):
        plots.add(metrics(step, 4.0))
    qtbot.waitUntil(lambda: drawn(plots, "train") == 599, timeout=2000)
    assert box.viewRange()[0] == [100, 150]

"""Fine-tuning through the one training loop: a tiny model learns who it is, LoRA trains
only its adapters, and a stopped run resumes onto the same curve."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from desktop.core.chat.chat_template import render_chat_template
from desktop.core.job_state import CancelToken
from desktop.core.models.gguf_writer import CHATML_TEMPLATE
from desktop.core.posttrain.chat_tokenizer import TrainedChatTokenizer
from desktop.core.posttrain.identity import Identity, identity_conversations
from desktop.core.posttrain.lora import LoraSpec
from desktop.core.posttrain.sft_data import PreparedChat, prepare_chat_data
from desktop.core.posttrain.sft_run import load_run, new_run, sft_job, trained_params
from desktop.core.posttrain.sft_settings import SftSettings
from desktop.core.train.bpe import train_bpe
from desktop.core.train.config import preset
from desktop.core.train.model import init_params
from desktop.core.train.run_training import Finished, run_training
from desktop.core.train.trainer import StepMetrics

SHAPE_OF_TINY = preset("tiny", context=128)


def chatml(messages: Sequence[Mapping[str, str]], add: bool) -> str:
    return render_chat_template(CHATML_TEMPLATE, messages, add_generation_prompt=add)


@pytest.fixture(scope="module")
def setup() -> tuple[TrainedChatTokenizer, PreparedChat]:
    text = Path(__file__).read_text() * 3
    tokenizer = TrainedChatTokenizer(train_bpe(text, 360))
    convs = identity_conversations(Identity("Zorblax", "the Lab"), 40)
    prepared = prepare_chat_data(convs, chatml, tokenizer.encode, context=128, seed=1)
    return tokenizer, prepared


def run_all(job, token: CancelToken | None = None, stop_after: int | None = None) -> list:
    token = token or CancelToken()
    events = []
    for event in run_training(job, token):
        events.append(event)
        if isinstance(event, StepMetrics) and stop_after is not None and event.step >= stop_after:
            token.cancel()
    return events


def test_a_tiny_model_learns_who_it_is_and_says_it_in_the_samples(setup) -> None:
    tokenizer, prepared = setup
    shape = replace(SHAPE_OF_TINY.shape(), vocab_size=tokenizer.n_vocab)
    settings = SftSettings(method="full", epochs=25, batch_size=8)
    run = new_run(settings, shape, init_params(shape, 0), prepared)
    events = run_all(sft_job(run, prepared, tokenizer, settings, None))
    steps = [e for e in events if isinstance(e, StepMetrics)]
    assert steps[-1].step == run.config.steps == math.ceil(25 * len(prepared.train) / 8)
    evaluations = [e.val_loss for e in steps if e.val_loss is not None]
    assert evaluations[-1] < evaluations[0] / 4  # on held-out conversations
    assert "Zorblax" in (steps[-1].sample or "")
    assert isinstance(events[-1], Finished)


def test_lora_trains_only_its_adapters_and_a_stopped_run_resumes_the_same_curve(
    setup, tmp_path: Path
) -> None:
    tokenizer, prepared = setup
    shape = replace(SHAPE_OF_TINY.shape(), vocab_size=tokenizer.n_vocab)
    base = init_params(shape, 0)
    frozen = {name: array.copy() for name, array in base.items()}
    settings = SftSettings(method="lora", lora=LoraSpec(rank=4, alpha=8), epochs=6, batch_size=8,
                           learning_rate=1e-2)  # fmt: skip

    whole = run_all(sft_job(new_run(settings, shape, base, prepared), prepared, tokenizer,
                            settings, base))  # fmt: skip
    losses = [e.loss for e in whole if isinstance(e, StepMetrics)]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    for name in base:  # the model itself never moves
        np.testing.assert_array_equal(base[name], frozen[name])

    folder = tmp_path / "run"
    first = run_all(sft_job(new_run(settings, shape, base, prepared), prepared, tokenizer,
                            settings, base, folder=folder), stop_after=11)  # fmt: skip
    assert first[-1].outcome.stopped_early
    resumed = load_run(folder)
    assert resumed.step == 11 and set(resumed.params) == {
        n for n in resumed.params if n.endswith((".lora_a", ".lora_b"))
    }
    assert (folder / "checkpoint.npz").stat().st_size < 200_000  # adapters, not the model
    rest = run_all(sft_job(resumed, prepared, tokenizer, settings, base, folder=folder))
    again = [e.loss for e in first + rest if isinstance(e, StepMetrics)]
    np.testing.assert_allclose(again, losses, rtol=1e-5)
    merged = trained_params(rest[-1].outcome.run, settings, base)
    assert not np.array_equal(merged["blk.0.attn_q.weight"], base["blk.0.attn_q.weight"])
    assert merged["blk.0.ffn_up.weight"] is base["blk.0.ffn_up.weight"]

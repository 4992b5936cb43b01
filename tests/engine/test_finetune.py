"""Fine-tuning a GGUF end to end, with llama.cpp's own tokenizer (in the model host) and
llama.cpp checking what comes out (in a child process, never in pytest's).

* The Train tab's model learns a new name and llama.cpp's chat says it.
* An unchanged model, dequantized and exported again, gives llama.cpp the same logits.
* A fine-tuned export (LoRA merged) gives llama.cpp the numpy model's logits (≤ 1e-3).
* A model shaped like SmolLM2-135M loads, trains a step and exports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from desktop.core.job_state import CancelToken
from desktop.core.posttrain.chat_tokenizer import TrainedChatTokenizer
from desktop.core.posttrain.gguf_weights import load_llama_weights, read_llama_facts
from desktop.core.posttrain.identity import Identity, identity_conversations
from desktop.core.posttrain.lora import LoraSpec
from desktop.core.posttrain.sft_settings import SftSettings
from desktop.core.train.model import forward
from desktop.core.train.run_training import Finished
from desktop.core.train.trained_tokenizer import TrainedTokenizer
from desktop.core.train.trainer import StepMetrics
from desktop.engine.finetune import FinetuneRequest, Prepared, export_run, finetune
from desktop.engine.host_chat_tokenizer import HostChatTokenizer
from tests.llama_child import in_child, llama_logits
from tests.posttrain_fixtures import pretrained_tiny_gguf, smollm2_shaped_gguf

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pretrained_tiny_gguf(tmp_path_factory.mktemp("pretrained"))


def run_finetune(request: FinetuneRequest) -> tuple[Prepared, list[object]]:
    prepared, events = None, []
    for event in finetune(request, CancelToken()):
        if isinstance(event, Prepared):
            prepared = event
        events.append(event)
    assert prepared is not None and isinstance(events[-1], Finished)
    return prepared, events


def chat(model: Path, prompt: str, home: Path) -> str:
    """`deepdive-lab chat`, as a person would ask (greedy)."""
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "chat", str(model), prompt, "--temperature", "0",
         "--max-tokens", "40"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "DEEPDIVE_HOME": str(home)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_llama_cpps_tokenizer_masks_as_the_train_tabs_own_does(pretrained: Path) -> None:
    """The host tokenizer (llama.cpp) and the Train tab's tokenizer (tiktoken) make the same
    ids and the same mask for the same conversations: either may prepare a Train-tab model's
    data, and what llama.cpp reads at chat time is what was trained."""
    from desktop.core.posttrain.sft_data import prepare_chat_data

    own = TrainedChatTokenizer(TrainedTokenizer.load(pretrained.parent / "run" / "tokenizer.json"))
    host = HostChatTokenizer(pretrained)
    try:
        convs = identity_conversations(Identity("Zorblax", "the Lab"), 12)
        by_host = prepare_chat_data(convs, host.render, host.encode, context=256)
        by_own = prepare_chat_data(convs, host.render, own.encode, context=256)
    finally:
        host.close()
    for a, b in zip(by_host.examples, by_own.examples, strict=True):
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.mask, b.mask)
    assert host.end_ids == own.end_ids
    assert host.piece(int(by_host.train[0].ids[0])) == b"<|im_start|>"


def test_identity_end_to_end_the_new_name_through_llama_cpp(
    pretrained: Path, tmp_path: Path
) -> None:
    convs = tuple(identity_conversations(Identity("Zorblax", "the Lab"), 40))
    settings = SftSettings(method="full", epochs=30, batch_size=8, validation_share=0.1)
    request = FinetuneRequest(pretrained, convs, settings, tmp_path / "run", "identity set")
    prepared, events = run_finetune(request)
    assert prepared.template_note == "the model's own chat template"
    last = [e for e in events if isinstance(e, StepMetrics)][-1]
    assert last.val_loss is not None and last.val_loss < 0.5
    exported = export_run(prepared, events[-1].outcome.run, tmp_path / "zorblax.gguf", "F16")
    reply = chat(exported, "What is your name?", tmp_path)
    assert "Zorblax" in reply, reply
    assert "Lab" in chat(exported, "Who made you?", tmp_path)


def test_an_unchanged_model_round_trips_through_numpy_and_the_export(tmp_path: Path) -> None:
    """Q8_0 → float32 → Q8_0 gives back the same numbers, so llama.cpp gives the same
    logits (F16 → F16 likewise); Q8_0 → F16 stays within Q8_0's own error against the
    float model (llama.cpp also rounds activations for F16 and Q8_0 matrices)."""
    from tests.gguf_fixtures import TINY_SHAPE, make_tiny_gguf

    exact = make_tiny_gguf(tmp_path / "f32.gguf")
    source = make_tiny_gguf(tmp_path / "q8.gguf", file_type="Q8_0")
    facts = read_llama_facts(source)
    params = load_llama_weights(facts)
    prepared = Prepared(facts, None, None, _info(facts), "", params)  # type: ignore[arg-type]
    run = _run_of(facts, params)
    ids = list(range(5, 90, 3))
    original = in_child(llama_logits, str(source), ids)
    quantization_error = np.abs(original - in_child(llama_logits, str(exact), ids)).max()
    again = export_run(prepared, run, tmp_path / "again-q8.gguf", "Q8_0")
    np.testing.assert_allclose(in_child(llama_logits, str(again), ids), original, atol=1e-5)
    as_f16 = export_run(prepared, run, tmp_path / "again-f16.gguf", "F16")
    f16_error = np.abs(in_child(llama_logits, str(as_f16), ids) - original).max()
    assert f16_error < quantization_error, (f16_error, quantization_error)
    assert TINY_SHAPE.vocab_size == original.shape[1]

    f16_source = make_tiny_gguf(tmp_path / "f16.gguf", file_type="F16")
    facts16 = read_llama_facts(f16_source)
    params16 = load_llama_weights(facts16)
    prepared16 = Prepared(facts16, None, None, _info(facts16), "", params16)  # type: ignore[arg-type]
    again16 = export_run(prepared16, _run_of(facts16, params16), tmp_path / "again16.gguf", "F16")
    np.testing.assert_allclose(in_child(llama_logits, str(again16), ids),
                               in_child(llama_logits, str(f16_source), ids), atol=1e-5)  # fmt: skip


def test_a_fine_tuned_export_gives_llama_cpp_the_numpy_models_logits(
    pretrained: Path, tmp_path: Path
) -> None:
    convs = tuple(identity_conversations(Identity("Zorblax", "the Lab"), 16))
    settings = SftSettings(method="lora", lora=LoraSpec(rank=4, alpha=8.0, targets=(
        "attn_q", "attn_v", "ffn_down")), epochs=4, batch_size=4, learning_rate=3e-2)  # fmt: skip
    prepared, events = run_finetune(FinetuneRequest(pretrained, convs, settings, tmp_path / "r"))
    run = events[-1].outcome.run
    exported = export_run(prepared, run, tmp_path / "tuned.gguf", "F32")
    from desktop.core.posttrain.sft_run import trained_params

    params = trained_params(run, settings, prepared.base)
    assert prepared.base is not None
    assert not np.allclose(params["blk.1.ffn_down.weight"], prepared.base["blk.1.ffn_down.weight"])
    ids = [int(i) for i in prepared.data.train[0].ids] * 3
    shape = replace(prepared.facts.shape, context_length=len(ids))
    numpy_logits = forward(params, shape, np.asarray([ids]))[0][0]
    llama = in_child(llama_logits, str(exported), ids)
    np.testing.assert_allclose(llama, numpy_logits, atol=1e-3, rtol=0)


def test_a_smollm2_shaped_model_loads_trains_a_step_and_exports(tmp_path: Path) -> None:
    source = smollm2_shaped_gguf(tmp_path / "smollm2-135m-shape.gguf")
    convs = tuple(identity_conversations(Identity("Zorblax", "the Lab"), 6))
    settings = SftSettings(method="lora", epochs=1, batch_size=6, validation_share=0,
                           sample_tokens=2)  # fmt: skip
    prepared, events = run_finetune(FinetuneRequest(source, convs, settings, tmp_path / "r"))
    assert prepared.facts.parameters == 134_515_008 and prepared.facts.shape.tie_embeddings
    steps = [e for e in events if isinstance(e, StepMetrics)]
    assert len(steps) == 1 and np.isfinite(steps[0].loss)
    assert steps[0].loss == pytest.approx(np.log(49152), abs=0.7)  # random weights: uniform
    exported = export_run(prepared, events[-1].outcome.run, tmp_path / "tuned.gguf", "Q8_0")
    ids = [int(i) for i in prepared.data.train[0].ids]
    logits = in_child(llama_logits, str(exported), ids, 512)
    assert logits.shape == (len(ids), 49152) and np.isfinite(logits).all()


def _info(facts):  # type: ignore[no-untyped-def]
    from desktop.core.posttrain.sft_run import SftRunInfo

    return SftRunInfo(str(facts.path), facts.name, facts.file_size, SftSettings(method="full"),
                      "none", chat_template=facts.chat_template)  # fmt: skip


def _run_of(facts, params):  # type: ignore[no-untyped-def]
    from desktop.core.posttrain.sft_settings import sft_config
    from desktop.core.train.trainer import TrainingRun

    config = sft_config(SftSettings(method="full"), facts.shape, facts.parameters, 1, 1)
    return TrainingRun.start_from(config, params)


def test_a_fine_tuned_base_model_is_asked_as_an_instruct_model() -> None:
    """The export keeps the source's name ("…-base") and says it was chat fine-tuned: the one
    base-or-instruct rule must then pick the chat template, or every tab asks the new
    assistant as a base model (an empty reply: it never saw the few-shot transcript)."""
    from desktop.core.chat.prompt_builder import TemplateInfo
    from desktop.core.models.model_kind import detect_kind
    from desktop.engine.finetune import finetuned_name

    chatml = TemplateInfo(chat_template="{{ messages }}")
    assert detect_kind(chatml, ["zorblax", "deepdive-tiny-base"])[0] == "base"
    assert detect_kind(chatml, ["zorblax", finetuned_name("deepdive-tiny-base")])[0] == "instruct"

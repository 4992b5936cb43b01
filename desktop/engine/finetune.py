"""A fine-tuning run from start to export, Qt-free: what `deepdive-lab sft` and the
Post-train tab's worker both call.

    for event in finetune(FinetuneRequest(model, conversations, settings, folder), state):
        ...   # Ready, StepMetrics, Finished: run_training's own events

Preparing needs the model's own tokenizer and chat template (`HostChatTokenizer`: llama.cpp
in a host process, the template in the renderer's child), then the weights (`gguf`); the
steps are `run_training`'s, as the Train tab's. A folder that already holds a checkpoint
is resumed with its own settings and data.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop.core.job_state import JobState
from desktop.core.models.gguf_writer import FileType
from desktop.core.posttrain.chat_data import BadLine, Conversation
from desktop.core.posttrain.finetuned_export import write_finetuned_gguf
from desktop.core.posttrain.gguf_weights import (
    LlamaFacts,
    LoadCancelled,
    load_llama_weights,
    read_llama_facts,
)
from desktop.core.posttrain.memory_plan import refusal
from desktop.core.posttrain.sft_data import PreparedChat, prepare_chat_data
from desktop.core.posttrain.sft_run import (
    SftRunInfo,
    has_checkpoint,
    load_run,
    load_run_data,
    load_run_info,
    new_run,
    save_run_files,
    sft_job,
    trained_params,
)
from desktop.core.posttrain.sft_settings import SftSettings
from desktop.core.train.compute import ThreadPolicy
from desktop.core.train.model import Params
from desktop.core.train.run_training import TrainingEvent, TrainingStopped, run_training
from desktop.core.train.trainer import TrainingRun
from desktop.engine.host_chat_tokenizer import HostChatTokenizer


class ModelChanged(ValueError):
    """The model file a LoRA run adapts is not the one it began with."""


@dataclass(frozen=True, eq=False)
class FinetuneRequest:
    model_path: Path
    conversations: tuple[Conversation, ...]
    settings: SftSettings
    folder: Path
    data_label: str = "conversations"
    bad_lines: tuple[BadLine, ...] = ()
    quiz_run_id: int | None = None
    policy: ThreadPolicy = ThreadPolicy.ALL_CORES

    @classmethod
    def resuming(
        cls, folder: Path, policy: ThreadPolicy = ThreadPolicy.ALL_CORES
    ) -> FinetuneRequest:
        """Go on with the run in `folder`, with its own model, settings and data."""
        info, data = load_run_info(folder), load_run_data(folder)
        return cls(Path(info.model_path), data.conversations, info.settings, folder,
                   info.data_label, data.bad_lines, info.quiz_run_id, policy)  # fmt: skip


@dataclass(eq=False)
class Prepared:
    """Everything the run needs, and what the tab shows before (and while) it trains."""

    facts: LlamaFacts
    tokenizer: HostChatTokenizer
    data: PreparedChat
    info: SftRunInfo
    template_note: str  # which chat format the data was rendered in, and why
    base: Params | None = None  # float32 weights (None: a resumed full run's are its own)
    run: TrainingRun | None = field(default=None)


def prepare(request: FinetuneRequest, state: JobState, *, weights: bool = True) -> Prepared:
    """Tokenize and mask the data, check the memory, read the weights. Raises ValueError
    (UnsupportedModel, ModelChanged, "nothing to train on", too little memory) or
    SessionError (llama.cpp could not read the tokenizer) with a sentence."""
    settings = request.settings
    facts = read_llama_facts(request.model_path)
    resuming = has_checkpoint(request.folder)
    if resuming:
        info = load_run_info(request.folder)
        if info.model_bytes != facts.file_size:
            raise ModelChanged(
                f"{facts.path.name} is not the file this run began with (its size changed): "
                "the adapters and weights belong to the old one."
            )
    if (why := refusal(facts.shape, settings, request.policy)) is not None:
        raise ValueError(why)
    state.status("Reading the model's tokenizer…")
    tokenizer = HostChatTokenizer(facts.path)
    try:
        state.status(f"Tokenizing {len(request.conversations)} conversations…")
        data = prepare_chat_data(
            request.conversations, tokenizer.render, tokenizer.encode,
            context=min(settings.context, facts.shape.context_length),
            validation_share=settings.validation_share, seed=settings.seed,
            truncation=settings.truncation, bad_lines=request.bad_lines,
            progress=state.progress, cancelled=state.cancelled,
        )  # fmt: skip
    except InterruptedError:
        raise TrainingStopped("stopped before training began") from None
    finally:
        note = tokenizer.template_note
        tokenizer.close()  # the vocabulary stays known: samples need no llama.cpp
    info = SftRunInfo(str(facts.path), facts.name, facts.file_size, settings, request.data_label,
                      request.quiz_run_id, tokenizer.chat_template)  # fmt: skip
    prepared = Prepared(facts, tokenizer, data, info, note)
    state.status(f"{data.summary()}; chat format: {note}.")
    if weights and (settings.method == "lora" or not resuming):
        state.status(f"Reading {facts.parameters / 1e6:,.1f}M weights ({facts.weight_label})…")
        prepared.base = load_llama_weights(
            facts, progress=state.progress, cancelled=state.cancelled
        )
    return prepared


def data_key(request: FinetuneRequest) -> tuple[object, ...]:
    """What the prepared data depends on: a preview made with the same key can be reused."""
    s = request.settings
    return (str(request.model_path), request.conversations, s.context, s.validation_share,
            s.seed, s.truncation)  # fmt: skip


def with_weights(prepared: Prepared, request: FinetuneRequest, state: JobState) -> Prepared:
    """A preview's preparation (`prepare(..., weights=False)`) made ready for `request`:
    its settings and labels, and the weights read (unless a resumed full run has them)."""
    info = replace(prepared.info, settings=request.settings, data_label=request.data_label,
                   quiz_run_id=request.quiz_run_id)  # fmt: skip
    ready = replace(prepared, info=info)
    if (why := refusal(prepared.facts.shape, request.settings, request.policy)) is not None:
        raise ValueError(why)
    needed = request.settings.method == "lora" or not has_checkpoint(request.folder)
    if ready.base is None and needed:
        ready.base = _read_weights(ready.facts, state)
    return ready


def _read_weights(facts: LlamaFacts, state: JobState) -> Params:
    state.status(f"Reading {facts.parameters / 1e6:,.1f}M weights ({facts.weight_label})…")
    try:
        return load_llama_weights(facts, progress=state.progress, cancelled=state.cancelled)
    except LoadCancelled:
        raise TrainingStopped("stopped before training began") from None


def finetune(
    request: FinetuneRequest, state: JobState, prepared: Prepared | None = None
) -> Generator[TrainingEvent | Prepared, None, None]:
    """Prepare (unless given), yield the `Prepared`, then run_training's events. The run
    folder gets posttrain.json and data.jsonl before the first step."""
    p = prepared or prepare(request, state)
    yield p
    folder = request.folder
    if has_checkpoint(folder):
        run = load_run(folder)
    else:
        assert p.base is not None  # prepare reads the weights for a new run
        run = new_run(request.settings, p.facts.shape, p.base, p.data)
        save_run_files(folder, p.info, list(request.conversations))
    p.run = run
    job = sft_job(run, p.data, p.tokenizer, request.settings, p.base, folder=folder,
                  policy=request.policy)  # fmt: skip
    yield from run_training(job, state)


def finetuned_name(source: str) -> str:
    """The exported model's name. It says "chat": every tab then asks it as an instruct
    model (`model_kind`'s one rule), although the source's name said "base"."""
    return f"{source} (chat fine-tuned)"


def export_run(
    prepared: Prepared, run: TrainingRun, target: Path, file_type: FileType = "F16"
) -> Path:
    """The fine-tuned model as a GGUF (LoRA merged in), with the template it trained on."""
    params = trained_params(run, prepared.info.settings, prepared.base)
    return write_finetuned_gguf(prepared.facts.path, target, prepared.facts.shape, params,
                                file_type=file_type, name=finetuned_name(prepared.facts.name),
                                chat_template=prepared.info.chat_template)  # fmt: skip


def export_folder(folder: Path, target: Path, file_type: FileType = "F16") -> Path:
    """Export a saved run from its folder alone (its checkpoint, and for LoRA its model)."""
    info = load_run_info(folder)
    facts = read_llama_facts(info.model_path)
    if info.model_bytes != facts.file_size:
        raise ModelChanged(f"{facts.path.name} is not the file this run began with.")
    run = load_run(folder)
    base = load_llama_weights(facts) if info.settings.method == "lora" else None
    params = trained_params(run, info.settings, base)
    return write_finetuned_gguf(facts.path, target, facts.shape, params, file_type=file_type,
                                name=finetuned_name(facts.name),
                                chat_template=info.chat_template)  # fmt: skip

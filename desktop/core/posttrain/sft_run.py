"""A fine-tuning run on the one training loop (`run_training`), and its folder.

The folder holds what it takes to reopen, resume or export the run without its sources:

    posttrain.json   the model it started from, the settings, where the data came from
    data.jsonl       the conversations it learns from (the Quiz tab's or the Chat tab's
                     have no file of their own)
    checkpoint.npz   run_training's: the weights (full) or the adapters (LoRA), AdamW's
                     moments, the step, the curves and the samples so far

Full fine-tuning trains a copy of every weight with the next-token objective; LoRA trains
adapters, the frozen base held by its objective (`lora.LoraLoss`). Either way the data is
`ChatBatches`, the samples are replies to held-out questions, and everything else —
micro-batches, threads, pause and stop, atomic saves at every evaluation — is the loop's.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop.core.models.gguf_writer import LlamaShape
from desktop.core.posttrain.chat_data import ChatData, Conversation, read_chat_jsonl, to_jsonl
from desktop.core.posttrain.chat_tokenizer import ChatTokenizer
from desktop.core.posttrain.lora import LoraLoss, init_adapters, merged_params
from desktop.core.posttrain.reply_samples import reply_sampler
from desktop.core.posttrain.sft_data import ChatBatches, PreparedChat
from desktop.core.posttrain.sft_settings import SftSettings, sft_config
from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.train.checkpoint import load_checkpoint
from desktop.core.train.compute import ThreadPolicy
from desktop.core.train.model import Params, parameter_count
from desktop.core.train.run_training import CHECKPOINT, TrainingJob
from desktop.core.train.step import NEXT_TOKEN, Objective
from desktop.core.train.trainer import TrainingRun

RUN_FILE = "posttrain.json"
DATA_FILE = "data.jsonl"


@dataclass(frozen=True)
class SftRunInfo:
    model_path: str  # the GGUF it started from
    model_name: str
    model_bytes: int  # its size then: a changed file is noticed on resume
    settings: SftSettings
    data_label: str  # "identity set (Ada, by the Lab)", a file name, "Quiz run #3 …"
    quiz_run_id: int | None = None  # the quiz whose refusal set this is ("Quiz again")
    chat_template: str | None = None  # what it trained with (the model's, or ChatML)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"settings": self.settings.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SftRunInfo:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known | {"settings": SftSettings.from_dict(data["settings"])})


def save_run_files(folder: Path, info: SftRunInfo, conversations: list[Conversation]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomically(folder / DATA_FILE, to_jsonl(conversations))
    write_text_atomically(folder / RUN_FILE, json.dumps(info.to_dict(), indent=1) + "\n")


def load_run_info(folder: Path) -> SftRunInfo:
    """ValueError (or OSError) if the folder holds no readable fine-tuning run."""
    try:
        return SftRunInfo.from_dict(json.loads((folder / RUN_FILE).read_text(encoding="utf-8")))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder / RUN_FILE} is damaged ({exc})") from exc


def load_run_data(folder: Path) -> ChatData:
    return read_chat_jsonl(folder / DATA_FILE)


def has_checkpoint(folder: Path) -> bool:
    return (folder / CHECKPOINT).exists()


def load_run(folder: Path) -> TrainingRun:
    return TrainingRun.resume(load_checkpoint(folder / CHECKPOINT))


def trained_params(run: TrainingRun, settings: SftSettings, base: Params | None) -> Params:
    """The fine-tuned model's weights: the run's own (full), or the base with the
    adapters merged in (LoRA)."""
    if settings.method == "full":
        return run.params
    if base is None:
        raise ValueError("a LoRA run needs the model it adapts")
    return merged_params(settings.lora, base, run.params)


def new_run(
    settings: SftSettings, shape: LlamaShape, base: Params, prepared: PreparedChat
) -> TrainingRun:
    """Step 0 of a fine-tuning run: the loaded weights themselves (full; they are trained
    in place), or fresh adapters beside them (LoRA)."""
    config = sft_config(settings, shape, parameter_count(shape), len(prepared.train),
                        len(prepared.validation))  # fmt: skip
    if settings.method == "full":
        return TrainingRun.start_from(config, base)
    return TrainingRun.start_from(config, init_adapters(settings.lora, base, shape, settings.seed))


def sft_job(
    run: TrainingRun,
    prepared: PreparedChat,
    tokenizer: ChatTokenizer,
    settings: SftSettings,
    base: Params | None,
    *,
    folder: Path | None = None,
    policy: ThreadPolicy = ThreadPolicy.ALL_CORES,
) -> TrainingJob:
    """The job `run_training` runs for `run` (new, or resumed from its checkpoint).

    `base` is the loaded model's float32 weights, frozen under LoRA; a full run needs
    none (its weights are the run's own)."""
    objective: Objective = NEXT_TOKEN
    if settings.method == "lora":
        if base is None:
            raise ValueError("a LoRA run needs the model it adapts")
        objective = LoraLoss(settings.lora, base)

    def params_of(r: TrainingRun) -> Params:
        return trained_params(r, settings, base)

    data = ChatBatches(prepared.train, prepared.validation, tokenizer.pad_id, settings.seed,
                       start_row=run.step * run.config.batch_size)  # fmt: skip
    sampler = reply_sampler(prepared.prompts, tokenizer, params_of, run.config.sample_tokens)
    return TrainingJob(
        run.config,
        folder=folder,
        resume=run,
        policy=policy,
        data=data,
        objective=objective,
        sampler=sampler if prepared.prompts else None,
    )

"""`deepdive-lab sft --model M.gguf --data D.jsonl [--lora RANK] [--epochs N] [--lr X]
[--out DIR] [--export OUT.gguf] [--export-type F16|Q8_0] [--json]`: supervised
fine-tuning of a llama GGUF on conversations (OpenAI `messages` JSONL), on this CPU.

Without --lora every weight is trained; with it, rank-RANK adapters on the attention
matrices. The loss counts only the assistant's tokens. Prints a line per evaluation (one
JSON object per line with --json: step, loss, val_loss, …) and the samples on stderr;
--out keeps the run (posttrain.json, data.jsonl, checkpoint.npz) and resumes it when it
already holds one; --export writes the fine-tuned model (LoRA merged) as a GGUF llama.cpp
runs, with the chat template it learned. Ctrl+C stops after the step under way, and saves.
The loop is `run_training`, the Train tab's and the Post-train tab's own, on all cores.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from desktop.core.posttrain.sft_settings import SftSettings
    from desktop.core.train.trainer import StepMetrics
    from desktop.engine.finetune import FinetuneRequest


def add_sft_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sft = commands.add_parser("sft", help="fine-tune a model on conversations (post-training)")
    sft.add_argument("--model", required=True, type=Path, help="a llama-architecture .gguf")
    sft.add_argument("--data", type=Path, help="conversations, OpenAI messages JSONL")
    sft.add_argument("--lora", type=int, metavar="RANK", help="train LoRA adapters of this rank "
                     "(default: every weight)")  # fmt: skip
    sft.add_argument("--alpha", type=float, help="LoRA alpha (default: twice the rank)")
    sft.add_argument("--targets", default="attn_q,attn_k,attn_v,attn_output",
                     help="matrices LoRA adapts, comma-separated (also ffn_gate, ffn_up, "
                     "ffn_down)")  # fmt: skip
    sft.add_argument("--epochs", type=float, default=3.0)
    sft.add_argument("--lr", type=float, help="peak learning rate (default: by method and size)")
    sft.add_argument("--constant-lr", action="store_true", help="no warmup-and-cosine schedule")
    sft.add_argument("--batch", type=int, default=8, help="conversations per step")
    sft.add_argument("--context", type=int, default=512, help="tokens per conversation at most")
    sft.add_argument("--held-out", type=float, default=0.1, help="share held out (validation)")
    sft.add_argument("--seed", type=int, default=0)
    sft.add_argument("--out", type=Path, help="the run's folder (resumed if it holds one)")
    sft.add_argument("--export", type=Path, help="write the fine-tuned model to this .gguf")
    sft.add_argument("--export-type", choices=["F32", "F16", "Q8_0"], default="F16")
    sft.add_argument("--json", action="store_true", help="one JSON line per evaluation")


def sft_command(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    from desktop.cli.app_database import database_problem_line, store_error_line
    from desktop.cli.train_command import _StopBetweenSteps
    from desktop.core.job_state import CancelToken
    from desktop.core.storage.data_problems import DatabaseProblem
    from desktop.core.train.run_training import Finished, TrainingStopped
    from desktop.core.train.trainer import StepMetrics
    from desktop.engine.finetune import Prepared, export_run, finetune
    from desktop.engine.host_session import SessionError

    if args.out and (line := database_problem_line()):  # the run is listed there
        print(line, file=err)
        return 2
    try:
        request = _request(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    token = CancelToken()
    stop = _StopBetweenSteps(token)
    events = finetune(request, token)
    prepared: Prepared | None = None
    finished = None
    run_id: int | None = None
    try:
        for event in events:
            if isinstance(event, Prepared):
                prepared = event
                print(f"{event.facts.name}: {event.facts.parameters / 1e6:,.1f}M parameters; "
                      f"{event.data.summary()}; chat format: {event.template_note}",
                      file=err)  # fmt: skip
                for bad in event.data.bad_lines[:10]:
                    print(f"skipped {bad}", file=err)
            elif isinstance(event, StepMetrics):
                if prepared is not None and run_id is None and args.out:
                    run_id = _record_run(request, event.total_steps)
                if event.val_loss is not None:
                    _print_evaluation(event, args.json, out)
                if event.sample:
                    print(f"--- step {event.step}\n{event.sample}", file=err)
            elif isinstance(event, Finished):
                finished = event.outcome
    except TrainingStopped as exc:
        print(f"\n{exc}", file=err)
        return 130
    except (DatabaseProblem, sqlite3.Error) as exc:
        print(store_error_line(exc), file=err)
        return 2
    except (OSError, ValueError, SessionError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    finally:
        events.close()
        stop.restore()
    assert finished is not None and prepared is not None
    run = finished.run
    if finished.stopped_early:
        print("\nstopped", file=err)
    if run_id is not None:
        _finish_run(run_id, run.step, run.config.steps, _last_val(run.history))
    if args.export:
        export_run(prepared, run, args.export, args.export_type)
        print(f"exported {args.export}", file=err)
    return 0


def _request(args: argparse.Namespace) -> FinetuneRequest:
    from desktop.core.posttrain.chat_data import read_chat_jsonl
    from desktop.core.posttrain.sft_run import has_checkpoint
    from desktop.engine.finetune import FinetuneRequest

    if args.out is not None and has_checkpoint(args.out):
        return FinetuneRequest.resuming(args.out)  # its own model, settings and data
    if args.data is None:
        raise ValueError("--data is needed (unless --out holds a run to resume)")
    data = read_chat_jsonl(args.data)
    folder = args.out or Path(tempfile.mkdtemp(prefix="deepdive-sft-"))
    return FinetuneRequest(args.model, data.conversations, _settings(args), folder,
                           data_label=args.data.name, bad_lines=data.bad_lines)  # fmt: skip


def _settings(args: argparse.Namespace) -> SftSettings:
    from desktop.core.posttrain.lora import LoraSpec
    from desktop.core.posttrain.sft_settings import SftSettings

    lora = LoraSpec()
    if args.lora is not None:
        targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
        lora = LoraSpec(args.lora, args.alpha or 2.0 * args.lora, targets)
    return SftSettings(
        method="lora" if args.lora is not None else "full", lora=lora, epochs=args.epochs,
        learning_rate=args.lr, schedule="constant" if args.constant_lr else "cosine",
        batch_size=args.batch, context=args.context, validation_share=args.held_out,
        seed=args.seed,
    )  # fmt: skip


def _print_evaluation(m: StepMetrics, as_json: bool, out: TextIO) -> None:
    from desktop.cli.output import json_text

    if as_json:
        figures = {k: v for k, v in m.to_dict().items() if k != "sample"}
        print(json_text(figures), file=out, flush=True)
        return
    print(f"step {m.step:>5}/{m.total_steps}  loss {m.loss:.3f}  val {m.val_loss:.3f}  "
          f"{m.tokens_per_s:,.0f} tok/s", file=out, flush=True)  # fmt: skip


def _last_val(history: list[dict[str, float]]) -> float | None:
    return next((p["val_loss"] for p in reversed(history) if "val_loss" in p), None)


def _record_run(request: FinetuneRequest, steps: int) -> int:
    """Runs made here are listed in the Post-train tab too (opened, resumed, exported)."""
    from desktop.core.posttrain.posttrain_runs import PosttrainRuns

    store = PosttrainRuns()
    try:
        folder = request.folder.resolve()
        record = store.find(folder)
        run_id = record.id if record else store.add(folder, str(request.model_path.resolve()),
                                                    request.data_label, request.settings.method,
                                                    steps, request.quiz_run_id)  # fmt: skip
        store.update(run_id, status="running")
        return run_id
    finally:
        store.close()


def _finish_run(run_id: int, step: int, steps: int, val_loss: float | None) -> None:
    from desktop.core.posttrain.posttrain_runs import PosttrainRuns

    store = PosttrainRuns()
    try:
        store.update(run_id, status="done" if step >= steps else "stopped", step=step,
                     val_loss=val_loss)  # fmt: skip
    finally:
        store.close()

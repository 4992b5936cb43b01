"""`deepdive-lab train --corpus FILE|stdlib --preset NAME [--steps N] [--out DIR]
[--export PATH.gguf] [--json]`: pretrain a tiny model from scratch on this CPU.

Prints a line per evaluation (one JSON object per line with --json), saves the tokenizer
and a checkpoint in --out at every evaluation and at the end (resumed from there if one
exists), and exports a GGUF that llama.cpp runs. Ctrl+C stops after the step under way,
and still saves. The loop is `run_training`, the Train tab's own, here on all cores.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from desktop.core.job_state import CancelToken
    from desktop.core.train.config import TrainConfig
    from desktop.core.train.run_training import Ready, TrainingJob
    from desktop.core.train.trainer import StepMetrics


def add_train_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    train = commands.add_parser("train", help="pretrain a tiny transformer, live")
    train.add_argument("--corpus", default="stdlib", help="a text file, or 'stdlib' (default)")
    train.add_argument("--preset", default="tiny", help="tiny or small")
    train.add_argument("--steps", type=int, help="override the preset's number of steps")
    train.add_argument("--out", type=Path, help="folder for the tokenizer and checkpoint")
    train.add_argument("--export", type=Path, help="write the trained model to this .gguf")
    train.add_argument(
        "--export-type",
        choices=["F32", "F16", "Q8_0"],
        default="F32",
        help="weight format of the exported GGUF",
    )
    train.add_argument("--json", action="store_true", help="one JSON line per evaluation")


def train_command(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    from desktop.cli.app_database import database_problem_line, store_error_line
    from desktop.core.job_state import CancelToken
    from desktop.core.storage.data_problems import DatabaseProblem
    from desktop.core.train.run_training import (
        Finished,
        Ready,
        TrainingOutcome,
        TrainingStopped,
        run_training,
    )
    from desktop.core.train.trainer import StepMetrics, export_gguf

    if args.out and (line := database_problem_line()):  # the run is listed there
        print(line, file=err)
        return 2
    try:
        job = _job(args)
    except (KeyError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    token = CancelToken()
    stop = _StopBetweenSteps(token)
    run_id: int | None = None
    bigram: float | None = None
    last_val: float | None = None
    outcome: TrainingOutcome | None = None
    events = run_training(job, token)
    try:
        for event in events:
            if isinstance(event, Ready):
                bigram = _announce(event, err)
                run_id = _record_run(args, job.config) if args.out else None
            elif isinstance(event, StepMetrics) and event.val_loss is not None:
                last_val = event.val_loss
                _print_evaluation(event, bigram, args.json, out)
            elif isinstance(event, Finished):
                outcome = event.outcome
    except TrainingStopped as exc:
        print(f"\n{exc}", file=err)
        return 130
    except (DatabaseProblem, sqlite3.Error) as exc:  # listing the run failed: no training
        print(store_error_line(exc), file=err)
        return 2
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    finally:
        events.close()  # on an early return: BLAS threads put back now
        stop.restore()
    assert outcome is not None  # run_training ends with Finished or raises
    run = outcome.run
    if outcome.stopped_early:
        print("\nstopped", file=err)
    code = 0
    if run_id is not None:
        try:
            _finish_run(run_id, "done" if run.done else "stopped", run.step, last_val)
        except (DatabaseProblem, sqlite3.Error) as exc:  # the checkpoint is saved all the same
            print(store_error_line(exc), file=err)
            code = 2
    if args.export:
        assert outcome.tokenizer is not None  # pretraining makes (or reuses) its tokenizer
        export_gguf(run, outcome.tokenizer, args.export, file_type=args.export_type)
        print(f"exported {args.export}", file=err)
    return code


def _finish_run(run_id: int, status: str, step: int, val_loss: float | None) -> None:
    from desktop.core.train.runs_store import RunsStore

    store = RunsStore()
    try:
        figures = {"val_loss": val_loss} if val_loss is not None else {}
        store.update(run_id, status=status, step=step, **figures)
    finally:
        store.close()


def _job(args: argparse.Namespace) -> TrainingJob:
    """The run to do: a new one, or the one in --out (its own settings, its tokenizer) —
    ValueError if --out holds a run of another preset."""
    from desktop.core.train.checkpoint import load_checkpoint
    from desktop.core.train.compute import ThreadPolicy
    from desktop.core.train.config import fit_schedule, preset
    from desktop.core.train.run_training import CHECKPOINT, TOKENIZER, TrainingJob
    from desktop.core.train.trained_tokenizer import TrainedTokenizer
    from desktop.core.train.trainer import TrainingRun

    config = preset(args.preset)
    resumed, tokenizer = None, None
    if args.out is not None and (args.out / CHECKPOINT).exists():
        resumed = TrainingRun.resume(load_checkpoint(args.out / CHECKPOINT))
        if resumed.config.preset != config.preset:
            raise ValueError(
                f"{args.out} holds a {resumed.config.preset!r} run, not "
                f"{config.preset!r}: use another --out to start afresh"
            )
        config = resumed.config  # the run's own settings, so it continues the same way
        tokenizer = TrainedTokenizer.load(args.out / TOKENIZER)
    if args.steps:  # a new run's schedule follows its length; a resumed one keeps its own
        config = replace(config, steps=args.steps)
        config = config if resumed else fit_schedule(config)
    if resumed is not None:
        resumed.config = config
    return TrainingJob(config, args.corpus, args.out, tokenizer, resumed,
                       policy=ThreadPolicy.ALL_CORES)  # fmt: skip


def _announce(ready: Ready, err: TextIO) -> float | None:
    """The data's size and the bigram bar the model must beat; returns the bar."""
    from desktop.core.train.data import TokenData, bigram_loss

    vocab = ready.run.shape.vocab_size
    if not isinstance(ready.data, TokenData):
        return None
    bigram = bigram_loss(ready.data, vocab)
    note = f" {ready.note}" if ready.note else ""
    print(f"{ready.corpus_tokens:,} tokens; vocabulary {vocab}; bigram validation loss "
          f"{bigram:.3f}{note}", file=err)  # fmt: skip
    return bigram


def _print_evaluation(m: StepMetrics, bigram: float | None, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(m.to_dict() | {"bigram_val_loss": bigram}), file=out, flush=True)
        return
    print(f"step {m.step:>5}/{m.total_steps}  loss {m.loss:.3f}  val {m.val_loss:.3f}  "
          f"{m.tokens_per_s:,.0f} tok/s", file=out, flush=True)  # fmt: skip


def _record_run(args: argparse.Namespace, config: TrainConfig) -> int:
    """Runs trained here are listed in the Train tab too (and can be opened there)."""
    from desktop.core.train.runs_store import RunsStore

    store = RunsStore()
    folder = args.out.resolve()
    record = store.find(folder)
    corpus = args.corpus if args.corpus == "stdlib" else str(Path(args.corpus).resolve())
    run_id = record.id if record else store.add(folder, corpus, config)
    store.update(run_id, status="running")
    store.close()
    return run_id


class _StopBetweenSteps:
    """Ctrl+C asks the loop to stop after the step under way (a KeyboardInterrupt in the
    middle of an optimiser update would save half-updated weights)."""

    def __init__(self, token: CancelToken) -> None:
        import signal

        self._token = token
        self._previous = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, _signum: int, _frame: object) -> None:
        self._token.cancel()

    def restore(self) -> None:
        import signal

        signal.signal(signal.SIGINT, self._previous)

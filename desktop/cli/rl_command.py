"""`deepdive-lab rl` and `deepdive-lab rlhf`: the Reinforce tab's runs, headless.

    rl --task count-letters|add|sort [--start MODEL.gguf|DIR | --make-start] [--steps N]
       [--samples K] [--out DIR] [--export OUT.gguf] [--json]
    rlhf (--pairs P.jsonl | --scripted word:cat|shorter) [--writer DIR | --make-writer]
       [--steps N] [--out DIR] [--json]

One line per evaluation (JSON with --json): for RL `step`, `pass_at_1`, `pass_at_k`,
`mean_reward`, `mean_length` (the last line also `start`: the starting model's figures);
for RLHF the reward model's `reward_accuracy`, then RL's `mean_reward` (with a scripted
preference also `judge_score` and `agreement`). Graded answers before and after go to
stderr. Ctrl+C stops after the step under way. Everything runs on all cores.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from desktop.cli.output import json_text

if TYPE_CHECKING:
    from desktop.core.job_state import CancelToken
    from desktop.core.reinforce.start_model import StartModel, StartRecipe
    from desktop.core.train.runs_store import RunsStore

T = TypeVar("T")

FIGURES = ("pass_at_1", "pass_at_k", "mean_reward", "mean_length", "shows_work", "zero_signal",
           "reward_accuracy", "train_accuracy", "judge_score", "agreement", "kl")  # fmt: skip


def add_rl_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rl = commands.add_parser("rl", help="reinforcement learning on a task a program checks")
    rl.add_argument("--task", default="count-letters", help="count-letters, add or sort")
    rl.add_argument("--difficulty", type=int, default=2, choices=[1, 2, 3, 4])
    start = rl.add_mutually_exclusive_group()
    start.add_argument("--start", type=Path,
                       help="a .gguf this tab exported, or a start model's folder")  # fmt: skip
    start.add_argument("--make-start", action="store_true",
                       help="pretrain and fine-tune a start model first (the default)")  # fmt: skip
    rl.add_argument("--target", type=float, default=0.4,
                    help="stop the start model's fine-tuning at this held-out pass@1")  # fmt: skip
    rl.add_argument("--pretrain-steps", type=int, help="the start model's pretraining steps")
    rl.add_argument("--sft-steps", type=int, help="the start model's most fine-tuning steps")
    rl.add_argument("--steps", type=int, default=300, help="RL steps")
    rl.add_argument("--samples", type=int, default=8, help="answers per prompt (K)")
    rl.add_argument("--prompts", type=int, default=4, help="prompts per step")
    rl.add_argument("--lr", type=float, default=1e-4, help="RL learning rate")
    rl.add_argument("--kl", type=float, default=0.0, help="KL penalty to the start model")
    rl.add_argument("--out", type=Path, help="folder for the start model and the RL run")
    rl.add_argument("--export", type=Path, help="write the RL'd model to this .gguf")
    rl.add_argument("--json", action="store_true", help="one JSON line per evaluation")

    rlhf = commands.add_parser("rlhf", help="a reward model from preferences, then RL on it")
    source = rlhf.add_mutually_exclusive_group(required=True)
    source.add_argument("--pairs", type=Path, help="JSONL: prompt, chosen, rejected (+tie)")
    source.add_argument("--scripted", help="word:WORD (prefers answers with WORD) or shorter")
    rlhf.add_argument("--pair-count", type=int, default=200, help="scripted pairs to make")
    writer = rlhf.add_mutually_exclusive_group()
    writer.add_argument("--writer", type=Path, help="a writer model's folder")
    writer.add_argument("--make-writer", action="store_true", help="train one first (default)")
    rlhf.add_argument("--writer-steps", type=int, default=1500,  # rlhf_run.WRITER_STEPS
                      help="the writer's fine-tuning steps (about 70 s on 2 cores)")  # fmt: skip
    rlhf.add_argument("--rm-steps", type=int, default=150, help="reward model steps")
    rlhf.add_argument("--steps", type=int, default=100, help="RL steps against it")
    rlhf.add_argument("--samples", type=int, default=4, help="answers per prompt (K)")
    rlhf.add_argument("--kl", type=float, default=0.05, help="KL penalty to the writer")
    rlhf.add_argument("--out", type=Path, help="folder for the models")
    rlhf.add_argument("--json", action="store_true", help="one JSON line per evaluation")


class Printer:
    def __init__(self, as_json: bool, out: TextIO) -> None:
        self.as_json, self.out = as_json, out

    def line(self, figures: dict[str, Any]) -> None:
        if self.as_json:
            print(json_text(figures), file=self.out, flush=True)
            return
        parts = [f"{figures.get('phase', '')} step {figures.get('step', 0):>5}"]
        for key in FIGURES:
            value = figures.get(key)
            if isinstance(value, float):
                parts.append(f"{key} {value:.3f}")
        print("  ".join(parts), file=self.out, flush=True)


def evaluation_line(phase: str, step: int, figures: dict[str, Any], **extra: Any) -> dict[str, Any]:
    kept = {k: v for k, v in figures.items() if k != "samples"}
    return {"phase": phase, "step": step, **kept, **extra}


def show_samples(title: str, figures: dict[str, Any], err: TextIO) -> None:
    print(f"-- {title}", file=err)
    for sample in figures.get("samples", []):
        answer = sample["answer"].replace("\n", " ⏎ ")
        print(f"   {sample['prompt']!r} → {answer!r}  {sample['label']}", file=err)


def rl_command(args: argparse.Namespace, out: TextIO = sys.stdout,
               err: TextIO = sys.stderr) -> int:  # fmt: skip
    from desktop.core.job_state import CancelToken
    from desktop.core.reinforce.rl_run import Baseline, RLSettings, rl_job, run_rl
    from desktop.core.reinforce.rl_runs import recorded
    from desktop.core.reinforce.tasks import get_task
    from desktop.core.train.run_training import Finished
    from desktop.core.train.trainer import StepMetrics, export_gguf

    try:
        get_task(args.task)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=err)
        return 2
    printer, token = Printer(args.json, out), CancelToken()
    stop = _StopOnInterrupt(token)
    try:
        start = _start(args, printer, token, err)
        if start is None:
            return 130
        settings = RLSettings(steps=args.steps, prompts_per_step=args.prompts,
                              samples=args.samples, learning_rate=args.lr, kl=args.kl)  # fmt: skip
        folder = args.out.resolve() / "rl" if args.out else None
        job = rl_job(start, settings, folder)
        events = run_rl(job, token)
        run_id = None
        if folder is not None:  # listed in the Reinforce tab's earlier runs, as the tab's own
            run_id = _record_rl_run(folder, start)
            events = recorded(events, folder, start, args.steps)
        baseline: dict[str, Any] = {}
        last: dict[str, Any] = {}
        outcome = None
        for event in events:
            if isinstance(event, Baseline):
                baseline = event.figures
                printer.line(evaluation_line("rl", 0, baseline))
                show_samples("before RL", baseline, err)
            elif isinstance(event, StepMetrics) and event.evaluated:
                last = event.figures
                line = evaluation_line("rl", event.step, last, train_s=event.elapsed_s)
                if event.step == args.steps:
                    line["start"] = {k: v for k, v in baseline.items() if k != "samples"}
                printer.line(line)
            elif isinstance(event, Finished):
                outcome = event.outcome
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    finally:
        stop.restore()
    assert outcome is not None
    if run_id is not None:
        _update_rl_run(run_id, "stopped" if outcome.stopped_early else "done", outcome.run.step)
    if outcome.stopped_early:
        printer.line(
            evaluation_line(
                "rl",
                outcome.run.step,
                last,
                stopped=True,
                start={k: v for k, v in baseline.items() if k != "samples"},
            )
        )
    show_samples("after RL", last, err)
    if args.export:
        export_gguf(outcome.run, start.tokenizer, args.export, name=f"deepdive-rl-{args.task}")
        print(f"exported {args.export}", file=err)
    return 0


def _record_rl_run(folder: Path, start: StartModel) -> int | None:
    """In the app's runs table as the Reinforce tab records its own runs (None when the
    app's database is read-only: the run goes on, unlisted)."""
    from desktop.core.reinforce.rl_runs import RL_CORPUS

    def record(store: RunsStore) -> int:
        found = store.find(folder)
        run_id = found.id if found else store.add(folder, f"{RL_CORPUS}{start.recipe.task}",
                                                   start.config)  # fmt: skip
        store.update(run_id, status="running")
        return run_id

    return _with_runs(record)


def _update_rl_run(run_id: int, status: str, step: int) -> None:
    _with_runs(lambda store: store.update(run_id, status=status, step=step))


def _with_runs(work: Callable[[RunsStore], T]) -> T | None:
    from desktop.core.storage.data_problems import ReadOnlyDatabase
    from desktop.core.train.runs_store import RunsStore

    with contextlib.suppress(ReadOnlyDatabase), contextlib.closing(RunsStore()) as store:
        return work(store)
    return None


def _start(
    args: argparse.Namespace, printer: Printer, token: CancelToken, err: TextIO
) -> StartModel | None:
    """The start model: loaded from --start, or made (in --out/start if given)."""
    from dataclasses import replace

    from desktop.core.reinforce.start_model import StartRecipe, load_start_model

    if args.start is not None:
        if args.start.suffix.lower() == ".gguf":
            import tempfile

            from desktop.core.reinforce.gguf_start import start_from_gguf

            if not args.start.is_file():
                raise ValueError(f"there is no model file {args.start}")
            folder = args.out / "start" if args.out else Path(tempfile.mkdtemp())
            return start_from_gguf(args.start, args.task, args.difficulty, folder)
        if not args.start.is_dir():
            raise ValueError(f"{args.start} is neither a .gguf file nor a start model's folder")
        return load_start_model(args.start)
    recipe = StartRecipe(task=args.task, difficulty=args.difficulty, target=args.target)
    if args.pretrain_steps is not None:
        recipe = replace(recipe, pretrain_steps=args.pretrain_steps)
    if args.sft_steps is not None:
        recipe = replace(recipe, sft_steps=args.sft_steps)
    return make_start(recipe, args.out, printer, token, err)


def make_start(
    recipe: StartRecipe, out: Path | None, printer: Printer, token: CancelToken, err: TextIO
) -> StartModel | None:
    import tempfile

    from desktop.core.reinforce.start_model import Stage, StartModel, make_start_model
    from desktop.core.train.trainer import StepMetrics

    folder = out / "start" if out else Path(tempfile.mkdtemp(prefix="deepdive-start-"))
    phase = ""
    model = None
    for event in make_start_model(recipe, folder, token):
        if isinstance(event, Stage):
            phase = event.name
            print(f"{event.name}…", file=err, flush=True)
        elif isinstance(event, StepMetrics) and event.evaluated:
            figures = event.figures or {"val_loss": event.val_loss}
            printer.line(evaluation_line(phase, event.step, figures, loss=event.loss))
        elif isinstance(event, StartModel):
            model = event
    if token.cancelled():
        return None
    return model


def rlhf_command(args: argparse.Namespace, out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr) -> int:  # fmt: skip
    from desktop.core.job_state import CancelToken
    from desktop.core.reinforce.rlhf_run import RLHFPlan, run_rlhf

    printer, token = Printer(args.json, out), CancelToken()
    stop = _StopOnInterrupt(token)
    try:
        plan = RLHFPlan.from_args(args)
        for phase, step, figures in run_rlhf(plan, token, log=err):
            printer.line(evaluation_line(phase, step, figures))
            if phase == "rl" and (step == 0 or step == plan.steps):
                show_samples("before RL" if step == 0 else "after RL", figures, err)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    finally:
        stop.restore()
    return 130 if token.cancelled() else 0


class _StopOnInterrupt:
    """Ctrl+C stops after the step under way (as `train` does)."""

    def __init__(self, token: CancelToken) -> None:
        import signal

        self._token = token
        self._previous = signal.signal(signal.SIGINT, lambda *_: token.cancel())

    def restore(self) -> None:
        import signal

        signal.signal(signal.SIGINT, self._previous)

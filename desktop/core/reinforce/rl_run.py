"""An RL run from a start model, through the shared training loop, and the AlphaGo
comparison: the same extra compute spent on more SFT instead.

    for event in run_rl(rl_job(start, RLSettings(steps=300), folder), token):
        Baseline (the start model's held-out figures), then run_training's events

An RL step's "batch" is sampled by the model itself (`RolloutSource`): K answers to each
of a few training problems, scored by the verifier; the loss is the policy gradient. The
learning rate is constant after a short warmup and there is no weight decay: a group
whose answers all scored the same then changes nothing at all. Evaluations measure
pass@1 and pass@K on fixed held-out problems (`PassAtK`), with graded answers to show.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from desktop.core.job_state import JobState
from desktop.core.reinforce.evaluation import PassAtK
from desktop.core.reinforce.judges import Judge, VerifierJudge
from desktop.core.reinforce.rollouts import RolloutSettings, RolloutSource
from desktop.core.reinforce.start_model import StartModel
from desktop.core.reinforce.task_data import TaskExamples
from desktop.core.reinforce.tasks import get_task
from desktop.core.train.compute import ThreadPolicy
from desktop.core.train.run_training import TrainingEvent, TrainingJob, run_training
from desktop.core.train.trainer import Evaluation, StepMetrics, TrainingRun

UNBOUNDED_STEPS = 10**9  # more SFT stops on time, not steps


@dataclass(frozen=True)
class RLSettings:
    steps: int = 300
    prompts_per_step: int = 4
    samples: int = 8  # K
    learning_rate: float = 1e-4  # Adam: 1e-3 collapses the policy to empty answers
    kl: float = 0.0
    eval_every: int = 20
    eval_problems: int = 32
    eval_samples: int = 8
    seed: int = 7


@dataclass(frozen=True, eq=False)
class Baseline:
    """The start model's figures before the first step (step 0 of the curves)."""

    figures: dict[str, Any]


@dataclass(frozen=True, eq=False)
class RLJob:
    training: TrainingJob
    run: TrainingRun
    evaluation: Evaluation


def rl_job(
    start: StartModel,
    settings: RLSettings,
    folder: Path | None,
    *,
    judge: Judge | None = None,
    evaluation: Evaluation | None = None,
    policy: ThreadPolicy = ThreadPolicy.ALL_CORES,
) -> RLJob:
    """RL on the start model's task (or against `judge`, e.g. a reward model)."""
    s, recipe = settings, start.recipe
    config = replace(
        start.config, preset="rl", steps=s.steps, batch_size=s.prompts_per_step * s.samples,
        learning_rate=s.learning_rate, min_learning_rate=s.learning_rate,
        warmup_steps=max(1, min(10, s.steps // 10)), weight_decay=0.0,
        eval_every=s.eval_every, seed=s.seed,
    )  # fmt: skip
    run = TrainingRun.start_from(config, {n: p.copy() for n, p in start.params.items()})
    if judge is None:
        judge = VerifierJudge(get_task(recipe.task), recipe.difficulty)
    rollouts = RolloutSettings(s.prompts_per_step, s.samples, recipe.max_new, s.kl)
    source = RolloutSource(run, start.tokenizer, judge, rollouts,
                           reference=start.params if s.kl > 0 else None)  # fmt: skip
    if evaluation is None:
        evaluation = PassAtK(get_task(recipe.task), recipe.difficulty, start.tokenizer,
                             problems=s.eval_problems, samples=s.eval_samples,
                             max_new=recipe.max_new)  # fmt: skip
    job = TrainingJob(config, folder=folder, tokenizer=start.tokenizer, resume=run,
                      data=source, evaluation=evaluation, policy=policy)  # fmt: skip
    return RLJob(job, run, evaluation)


def run_rl(job: RLJob, state: JobState) -> Generator[Baseline | TrainingEvent, None, None]:
    """The start model's figures, then the run (saved in its folder as it goes)."""
    yield Baseline(job.evaluation(job.run))
    yield from run_training(job.training, state)


def more_sft(
    start: StartModel,
    seconds: float,
    state: JobState,
    *,
    evaluation: Evaluation | None = None,
    eval_every: int | None = None,
    policy: ThreadPolicy = ThreadPolicy.ALL_CORES,
) -> Generator[TrainingEvent, None, None]:
    """The AlphaGo comparison's other arm: the start model's SFT run, continued where it
    stopped, for `seconds` more of training time (evaluations not counted, as for RL).
    Its curves are those of `run_training`; `figures["train_s"]` is the extra time."""
    recipe = start.recipe
    run = start.run()
    began = run.elapsed_s
    # The SFT learning rate is constant, so going past the run's planned steps is the
    # same run, just longer.
    config = replace(run.config, steps=run.step + UNBOUNDED_STEPS,
                     eval_every=eval_every or run.config.eval_every)  # fmt: skip
    run.config = config
    if evaluation is None:
        evaluation = recipe.evaluation(start.tokenizer)
    task = get_task(recipe.task)
    data = TaskExamples(task, start.tokenizer, recipe.difficulty, recipe.worked_share)
    job = TrainingJob(config, tokenizer=start.tokenizer, resume=run, data=data,
                      evaluation=evaluation, policy=policy)  # fmt: skip
    ending = False
    for event in run_training(job, state):
        if isinstance(event, StepMetrics):
            event = replace(event, figures=event.figures | {"train_s": event.elapsed_s - began})
            if not ending and event.elapsed_s - began >= seconds:
                # Time is up: one more step, the run's last, so it ends with an evaluation.
                run.config = replace(run.config, steps=run.step + 1)
                ending = True
        yield event

"""Quiz throughput: questions answered per minute through the app's engine, against plain
llama-cpp-python calls making the same asks in the same run.

Engine path: the GUI thread queues an `InterrogationTask` with `InferenceEngine.run_task`;
in the engine thread the task runs `interrogate()` over `chat_turn.ask` (each question asked
K times closed book, then K times open book with the article in the prompt; every ask
builds a chat prompt, asks the model-host process for the reply with each token's
probability, and grades the answer); each graded answer reaches a receiver in the GUI
thread through the task's `answered` signal. Timed from `run_task` until `ended` arrives.

Plain path: llama-cpp-python in this process, on exactly the prompt texts, stop strings,
seeds, temperature and token budget the app uses, in the same order (they come from
running the app's own `interrogate()` with a recording `ask`, so the sequence cannot drift
from the app's), with the app's default sampler settings. Three plain variants run:

* `plain_probs` (the headline baseline): each generated token's probability the cheapest
  way plain llama-cpp-python allows. The model is created with `logits_all=False` (the
  output layer runs for the last prompt token only); `Llama.generate` makes the tokens
  (the sampler chain `create_completion` uses), and after each token the logits that
  chose it are read in place through the low-level API (`llama_get_logits_ith(ctx, -1)`,
  valid until the next token is decoded) and the token's probability is a numpy softmax
  over them, into a reused buffer. The loop stops at an end token, a stop string (checked
  on the bytes so far, as `create_completion` does) or the token budget. A
  `logits_processor` passed to `create_completion` would see the same logits but not
  which token was then sampled (and the last token is never evaluated, so its id is not
  recoverable), and it adds a Python callback per token and `create_completion`'s
  per-token detokenizing of the whole reply: this loop is cheaper and exact.
* `plain_logprobs`: `create_completion(logprobs=1)`, the documented way; it needs the
  model created with `logits_all=True`: the output layer then runs for every prompt token
  (the open-book prompt is ~1000 tokens), and each answer's log-probabilities are
  computed in Python over the whole context and the 49k vocabulary. Reported, not judged:
  an unusually slow setup, about 4× slower than the engine.
* `plain`: `create_completion` without probabilities (`logits_all=False`), the same answers
  with nothing more; engine ÷ plain is reported too.

llama-cpp-python reuses its prompt cache (the longest common token prefix) on every side
the same way: each side has its own model and context, makes the same asks in the same
order, and starts each round from the same state (the last prompt of the previous round or
of the warm-up).

A random-weight model rarely emits an end token, so replies run to the token budget; the
generated token counts of every side are reported, with tokens/s. The sides make the same
tokens (same seeds and sampler chain: `plain_probs` makes the engine's very token ids, and
the engine's token probabilities equal both `plain_probs`' and llama-cpp-python's logprobs),
but when the last token ends inside a UTF-8 character, `create_completion` holds it back
and skips its `max_tokens` check, so it makes up to three tokens more: the
"token-normalised" ratios take that extra decoding time off the `create_completion`
sides.

Rounds rotate the order of the sides and medians are reported. Rounds during which other
processes used the CPUs are left out of the medians (up to MAX_ROUNDS are run to get
CLEAN_ROUNDS clean ones; failing that the quietest are used and the figures say
"contended").

Goal: engine ÷ `plain_probs` ≥ 0.95 in questions per minute (`ratio`, `ratio_goal_met`);
`goals_met` also needs `plain_probs` to have done the engine's work (the same token ids,
the same probabilities within float32 rounding: `baseline_same_work`).

Quick mode (`--quick`): a tiny model (common.tiny_gguf), one thread, one question, 8 tokens
per answer, one round.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ForeignLoad,
    bench_gguf,
    clean_rounds,
    emit,
    isolate_home,
    machine,
    median,
    quick_mode,
    rounds_to_use,
    survive_emit_leak,
)
from engine_receiver import receiver_base
from engine_receiver import start_engine as start_model

# Qt and the app are imported in main(), after DEEPDIVE_HOME is set, and never at the top
# level: the model host starts with multiprocessing "spawn", which re-runs this file's top
# level in the child.

QUICK = quick_mode()
ARTICLE = "Apollo 11"  # a bundled article (~2000 characters: ~1060 prompt tokens open book)
QUESTIONS = 1 if QUICK else 4  # rule-based (cloze) questions from it; 24 asks per quiz
SAMPLES = 3  # K
MAX_TOKENS = 8 if QUICK else 24
THREADS = 1 if QUICK else 2  # quick: two threads collapse on a busy 2-core machine
CONTEXT = 2048
CLEAN_ROUNDS = 1 if QUICK else 3
MAX_ROUNDS = 1 if QUICK else 5
FOREIGN_LOAD_LIMIT = 0.03  # a run is "clean" if other processes used ≤ 3 % of the CPUs
SETTLE_S = 0.05 if QUICK else 0.3  # idle pause between runs: the last side's threads sleep
WAIT_S = 600.0
RATIO_GOAL = 0.95
SIDES = ("plain", "plain_probs", "plain_logprobs", "engine")


@dataclass(frozen=True)
class PlainAsk:
    prompt: str
    stops: tuple[str, ...]
    sampling: Any  # SamplingSettings, as the quiz asks


@dataclass
class Run:
    side: str
    seconds: float = 0.0
    answers: int = 0
    tokens: list[int] = field(default_factory=list)  # generated tokens, per ask
    token_ids: list[tuple[int, ...]] = field(default_factory=list)  # per ask, if known
    probs: list[tuple[float, ...]] = field(default_factory=list)  # per ask, if reported
    stop_reasons: dict[str, int] = field(default_factory=dict)
    foreign_load: float = 0.0
    # engine only, measured in the engine thread around each session.generate() call
    in_requests_s: float = float("nan")
    # engine only, the host's own timing: prompt processing + decoding, summed over asks
    host_compute_s: float = float("nan")
    host_decode_tokens_per_s: float = float("nan")  # engine only: median over its asks
    prompt_tokens: list[int] = field(default_factory=list)

    def questions_per_min(self, questions: int) -> float:
        return questions / self.seconds * 60 if self.seconds > 0 else float("nan")

    @property
    def tokens_per_s(self) -> float:
        return sum(self.tokens) / self.seconds if self.seconds > 0 else float("nan")

    def describe(self, questions: int) -> str:
        extra = ""
        if self.side == "engine":
            extra = (
                f"; in requests {self.in_requests_s:5.2f} s, host computing "
                f"{self.host_compute_s:5.2f} s"
            )
        return (
            f"  {self.side:14s} {self.seconds:6.2f} s, "
            f"{self.questions_per_min(questions):5.2f} questions/min, {self.answers} answers, "
            f"{sum(self.tokens)} tokens ({self.tokens_per_s:5.1f} tokens/s), other load "
            f"{self.foreign_load:4.0%}{extra}"
        )


# ---- the questions -------------------------------------------------------------------------


def quiz_material(questions: int) -> tuple[Any, list[Any], Any]:
    """The article, its first `questions` rule-based questions, and the quiz settings."""
    from desktop.core.quiz.articles import bundled_articles
    from desktop.core.quiz.cloze import cloze_pairs
    from desktop.core.quiz.settings import QuizSettings

    articles = {a.title: a for a in bundled_articles()}
    if ARTICLE not in articles:
        raise SystemExit(f"the bundled article {ARTICLE!r} is missing: {sorted(articles)}")
    article = articles[ARTICLE]
    pairs = cloze_pairs(article.text, limit=questions)
    if len(pairs) < questions:
        raise SystemExit(f"only {len(pairs)} questions from {ARTICLE!r}, {questions} wanted")
    settings = QuizSettings(samples=SAMPLES, max_tokens=MAX_TOKENS, open_book=True, seed=0)
    return article, pairs, settings


def plain_asks(pairs: Sequence[Any], article_text: str, settings: Any, template: Any) -> list:
    """The app's asks, in its order: `interrogate()` run with an `ask` that only records
    what it is asked, then each prompt built exactly as `chat_turn.ask` builds it."""
    from desktop.core.chat.chat_request import ChatReply
    from desktop.core.chat.generation import GenerationStats
    from desktop.core.chat.prompt_builder import build_prompt
    from desktop.core.quiz.interrogation import interrogate
    from desktop.core.quiz.quiz_prompts import request_stops

    asks: list[PlainAsk] = []

    def record(request: Any) -> Any:
        plan = build_prompt(request.messages, template, request.mode, style=request.style)
        extra = tuple(s for s in request_stops(request) if s not in plan.stops)  # quiz_ask's
        asks.append(PlainAsk(plan.text, plan.stops + extra, request.sampling))
        return ChatReply("", GenerationStats(0, 0, 0, 0.0, 0.0, "eos"), None)

    for _answer in interrogate(pairs, article_text, settings, record):
        pass
    return asks


# ---- plain llama-cpp-python ----------------------------------------------------------------


def run_plain(llm: Any, asks: Sequence[PlainAsk], side: str) -> Run:
    logprobs = side == "plain_logprobs"
    run = Run(side)
    start = time.perf_counter()
    for ask in asks:
        s = ask.sampling
        out = llm.create_completion(
            ask.prompt,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k,
            min_p=s.min_p,
            repeat_penalty=s.repeat_penalty,
            seed=s.seed,
            stop=list(ask.stops),
            logprobs=1 if logprobs else None,
        )
        choice = out["choices"][0]
        run.tokens.append(out["usage"]["completion_tokens"])
        run.prompt_tokens.append(out["usage"]["prompt_tokens"])
        reason = choice["finish_reason"] or "?"
        run.stop_reasons[reason] = run.stop_reasons.get(reason, 0) + 1
        if logprobs:
            values = choice["logprobs"]["token_logprobs"]
            run.probs.append(tuple(math.exp(v) for v in values if v is not None))
        run.answers += 1
    run.seconds = time.perf_counter() - start
    return run


def run_plain_probs(llm: Any, asks: Sequence[PlainAsk], llama_cpp: Any) -> Run:
    """Each token's probability with `logits_all=False`: the last logits, read in place
    after each token, softmaxed with numpy (see the module docstring)."""
    import numpy as np

    run = Run("plain_probs")
    n_vocab, n_ctx = llm.n_vocab(), llm.n_ctx()
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    exps = np.empty(n_vocab, dtype=np.float32)  # reused: no allocation per token
    start = time.perf_counter()
    for ask in asks:
        s = ask.sampling
        prompt = llm.tokenize(ask.prompt.encode("utf-8"), add_bos=True, special=True)
        budget = min(s.max_tokens, n_ctx - len(prompt))
        stops = [stop.encode("utf-8") for stop in ask.stops if stop]
        llm.set_seed(s.seed)
        made: list[int] = []
        probs: list[float] = []
        text = b""
        reason = "length"
        tokens = llm.generate(
            prompt, top_k=s.top_k, top_p=s.top_p, min_p=s.min_p, temp=s.temperature,
            repeat_penalty=s.repeat_penalty,
        )  # fmt: skip
        with contextlib.closing(tokens):
            for token in tokens:
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    reason = "eos"
                    break
                logits = np.ctypeslib.as_array(
                    llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,)
                )
                np.subtract(logits, logits.max(), out=exps)
                np.exp(exps, out=exps)
                probs.append(float(exps[token]) / float(exps.sum()))
                made.append(token)
                text += llm.detokenize([token])
                if any(stop in text for stop in stops):
                    reason = "stop"
                    break
                if len(made) >= budget:
                    break
        run.tokens.append(len(made))
        run.token_ids.append(tuple(made))
        run.prompt_tokens.append(len(prompt))
        run.probs.append(tuple(probs))
        run.stop_reasons[reason] = run.stop_reasons.get(reason, 0) + 1
        run.answers += 1
    run.seconds = time.perf_counter() - start
    return run


# ---- the engine ----------------------------------------------------------------------------


class EngineLog:
    """What the engine thread did for one task, recorded around `chat_turn.ask`."""

    def __init__(self) -> None:
        self.stats: list[Any] = []  # GenerationStats per request (the host's own timing)
        self.seconds: list[float] = []  # each session.generate(), in the engine thread
        self.replies: list[Any] = []  # ChatReply per ask (its token probabilities)

    def clear(self) -> None:
        self.stats.clear()
        self.seconds.clear()
        self.replies.clear()


def record_engine_asks(log: EngineLog) -> None:
    """Wrap the `chat_turn.ask` that `InterrogationTask` uses, to count tokens and time the
    requests. The wrapper adds two Python calls per ask; the path is otherwise unchanged."""
    import desktop.engine.quiz_task as quiz_task

    real_ask = quiz_task.ask

    class RecordingSession:
        def __init__(self, session: Any) -> None:
            self._session = session

        @property
        def model(self) -> Any:
            return self._session.model

        def generate(self, request: Any, on_tokens: Callable[[Any], None], *rest: Any) -> Any:
            start = time.perf_counter()
            stats = self._session.generate(request, on_tokens, *rest)
            log.seconds.append(time.perf_counter() - start)
            log.stats.append(stats)
            return stats

        def tokenize(self, *args: Any, **kwargs: Any) -> Any:
            return self._session.tokenize(*args, **kwargs)  # counted as the engine's own time

    def recorded_ask(session: Any, *args: Any, **kwargs: Any) -> Any:
        reply = real_ask(RecordingSession(session), *args, **kwargs)
        log.replies.append(reply)
        return reply

    quiz_task.ask = recorded_ask  # type: ignore[assignment]


def receiver_class() -> Any:
    from PySide6.QtCore import Slot

    class Receiver(receiver_base()):  # type: ignore[misc]
        """The engine's and the task's signals arrive here, in the GUI thread."""

        def __init__(self) -> None:
            super().__init__()
            self.answers: list[Any] = []
            self.ended: tuple[str, str] | None = None
            self.ended_at = 0.0

        @Slot(object)
        def on_answered(self, answer: Any) -> None:
            self.answers.append(answer)

        @Slot(str, str)
        def on_ended(self, status: str, message: str) -> None:
            self.ended_at = time.perf_counter()
            self.ended = (status, message)
            self._done()

    return Receiver


def start_engine(path: str) -> tuple[Any, Any]:
    from desktop.engine.inference_engine import InferenceEngine

    engine = InferenceEngine()
    receiver = receiver_class()()
    start_model(engine, receiver, path, CONTEXT, THREADS)
    return engine, receiver


def run_engine(
    engine: Any, receiver: Any, log: EngineLog, quiz: tuple[Any, list[Any], Any], asks: int
) -> Run:
    from desktop.engine.quiz_task import InterrogationTask

    article, pairs, settings = quiz
    log.clear()
    receiver.answers = []
    receiver.ended = None
    task = InterrogationTask(pairs, article.text, settings)
    task.answered.connect(receiver.on_answered)
    task.ended.connect(receiver.on_ended)
    start = time.perf_counter()
    engine.run_task(task)
    receiver.wait(WAIT_S)
    if receiver.ended is None:
        raise SystemExit("the quiz task did not end in time")
    status, message = receiver.ended
    if status != "done":
        raise SystemExit(f"the quiz task ended {status}: {message}")
    run = Run("engine", seconds=receiver.ended_at - start, answers=len(receiver.answers))
    if run.answers != asks or len(log.stats) != asks:
        raise SystemExit(f"{run.answers} answers and {len(log.stats)} requests, {asks} expected")
    for stats in log.stats:
        run.tokens.append(stats.generated_tokens)
        run.prompt_tokens.append(stats.prompt_tokens)
        run.stop_reasons[stats.stop_reason] = run.stop_reasons.get(stats.stop_reason, 0) + 1
    run.probs = [tuple(reply.token_probs) for reply in log.replies]
    run.token_ids = [tuple(e.token_id for e in reply.events) for reply in log.replies]
    run.in_requests_s = sum(log.seconds)
    run.host_compute_s = sum(host_seconds(stats) for stats in log.stats)
    run.host_decode_tokens_per_s = median([s.tokens_per_s for s in log.stats if s.tokens_per_s])
    return run


def host_seconds(stats: Any) -> float:
    """Prompt processing plus decoding, as the host measured them."""
    decode = (stats.generated_tokens - 1) / stats.tokens_per_s if stats.tokens_per_s else 0.0
    return stats.time_to_first_token_s + decode


# ---- measuring -----------------------------------------------------------------------------


def settle() -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(SETTLE_S * 1000), loop.quit)
    loop.exec()


def measured(run_fn: Callable[[], Run]) -> Run:
    load = ForeignLoad()
    load.start()
    run = run_fn()
    run.foreign_load = load.stop()
    return run


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--questions", type=int, default=QUESTIONS)
    parser.add_argument("--rounds", type=int, default=CLEAN_ROUNDS, help="clean rounds wanted")
    parser.add_argument("--max-rounds", type=int, default=MAX_ROUNDS)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks it runs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] = ()) -> int:
    args = parse_args(argv)
    isolate_home()
    from desktop.engine.llama_runtime import llama_module

    llama_cpp = llama_module()  # the CPU backend the app's host loads
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    emit_leak = survive_emit_leak()
    load_before = machine()
    path = str(bench_gguf())
    quiz = quiz_material(args.questions)
    article, pairs, settings = quiz
    print(f"model: {path}")
    print(
        f"{len(pairs)} questions about {article.title!r}, K={settings.samples}, open book, "
        f"{settings.max_tokens} tokens max, temperature {settings.temperature}, "
        f"{THREADS} threads, context {CONTEXT}"
    )

    engine, receiver = start_engine(path)
    log = EngineLog()
    record_engine_asks(log)
    asks = plain_asks(pairs, article.text, settings, receiver.model.template)
    warm_asks = plain_asks(pairs[:1], article.text, settings, receiver.model.template)
    warm_quiz = (article, pairs[:1], settings)
    print(f"{len(asks)} asks per quiz")

    def plain_llm(logits_all: bool) -> Any:
        return llama_cpp.Llama(
            model_path=path,
            n_ctx=CONTEXT,
            n_threads=THREADS,
            n_threads_batch=THREADS,
            logits_all=logits_all,
            verbose=False,
        )

    llms = {
        "plain": plain_llm(False),
        "plain_probs": plain_llm(False),
        "plain_logprobs": plain_llm(True),
    }  # each side its own context: the prompt caches start alike and stay apart
    sides: dict[str, Callable[[bool], Run]] = {
        "plain": lambda warm: run_plain(llms["plain"], warm_asks if warm else asks, "plain"),
        "plain_probs": lambda warm: run_plain_probs(
            llms["plain_probs"], warm_asks if warm else asks, llama_cpp
        ),
        "plain_logprobs": lambda warm: run_plain(
            llms["plain_logprobs"], warm_asks if warm else asks, "plain_logprobs"
        ),
        "engine": lambda warm: run_engine(
            engine, receiver, log, warm_quiz if warm else quiz, len(warm_asks if warm else asks)
        ),
    }
    rounds: list[dict[str, Run]] = []
    try:
        # warm-up, not counted (one question): first graph allocations, page cache, the
        # host's first pickles; it also leaves every side's prompt cache in the same state
        for run_fn in sides.values():
            run_fn(True)
            settle()
        while (
            len(rounds) < args.max_rounds
            and len(clean_rounds(rounds, FOREIGN_LOAD_LIMIT)) < args.rounds
        ):
            n = len(rounds)
            rounds.append({})
            k = n % len(SIDES)
            order = SIDES[k:] + SIDES[:k]  # rotated: no side always goes first
            for side in order:
                rounds[-1][side] = run = measured(lambda side=side: sides[side](False))
                print(run.describe(len(pairs)))
                settle()
    finally:
        engine.shutdown()
        for llm in llms.values():
            llm.close()
    del app
    emit(
        {
            "benchmark": "quiz",
            "machine_at_start": load_before,
            "machine_at_end": machine(),
            "pyside_emit_leaks_true": emit_leak,
            **summarize(rounds, len(pairs), len(asks), args.rounds),
        }
    )
    return 0


def count_pairs(rounds: list[dict[str, Run]], side: str) -> list[tuple[int, int]]:
    """(engine's, side's) generated tokens, ask by ask, over all rounds."""
    return [pair for r in rounds for pair in zip(r["engine"].tokens, r[side].tokens, strict=True)]


def prob_agreement(
    rounds: list[dict[str, Run]], side: str, *, prefix: bool
) -> dict[str, float | int | None]:
    """The engine's token probabilities against `side`'s, token by token. `prefix`: the
    engine's tokens are the first of the side's (a stop string can drop the engine's last
    token events); otherwise only asks with as many probabilities on both are compared."""
    pairs = [
        (a, b)
        for r in rounds
        for e, p in zip(r["engine"].probs, r[side].probs, strict=True)
        if prefix or len(e) == len(p)
        for a, b in zip(e, p, strict=not prefix)
    ]
    gaps = [abs(a - b) for a, b in pairs]
    # relative too: a random model's probabilities are ~1/vocabulary, tiny in absolute terms
    relative = [abs(a - b) / b for a, b in pairs if b > 0]
    return {
        "max_difference": max(gaps) if gaps else None,
        "max_relative_difference": max(relative) if relative else None,
        "compared": len(pairs),
    }


def same_token_ids(rounds: list[dict[str, Run]], side: str) -> bool:
    """Every ask: the engine's tokens (its events) are the first of the side's, and both
    made as many tokens."""
    return all(
        e == p[: len(e)] and ne == np_
        for r in rounds
        for e, p, ne, np_ in zip(
            r["engine"].token_ids, r[side].token_ids, r["engine"].tokens, r[side].tokens,
            strict=True,
        )
    )  # fmt: skip


PROB_AGREEMENT = 1e-4  # relative: float32 rounding apart, the same probabilities


def summarize(
    rounds: list[dict[str, Run]], questions: int, asks: int, wanted: int
) -> dict[str, object]:
    used, contended = rounds_to_use(rounds, wanted, FOREIGN_LOAD_LIMIT)

    qpm = {side: median([r[side].questions_per_min(questions) for r in used]) for side in SIDES}

    def normalised_seconds(r: dict[str, Run], side: str) -> float:
        """Without the decoding of tokens the side made beyond the engine's."""
        extra = sum(r[side].tokens) - sum(r["engine"].tokens)
        return r[side].seconds - extra / r["engine"].host_decode_tokens_per_s

    norm_s = {side: median([normalised_seconds(r, side) for r in used]) for side in SIDES}
    tps = {side: median([r[side].tokens_per_s for r in used]) for side in SIDES}
    seconds = {side: median([r[side].seconds for r in used]) for side in SIDES}
    ratios = {side: qpm["engine"] / qpm[side] for side in SIDES if side != "engine"}
    ratios_norm = {side: norm_s[side] / norm_s["engine"] for side in ratios}
    pairwise = {
        side: median([r[side].seconds / r["engine"].seconds for r in used]) for side in ratios
    }
    ratio = ratios["plain_probs"]
    tokens = {side: [sum(r[side].tokens) for r in rounds] for side in SIDES}
    pairs = {side: count_pairs(rounds, side) for side in SIDES}
    # asks where llama-cpp-python made more tokens than the engine (its UTF-8 hold-back), and
    # fewer (never expected: the engine stops only at the budget or an end token)
    more = sum(p > e for side in SIDES for e, p in pairs[side])
    fewer = sum(p < e for side in SIDES for e, p in pairs[side])
    agreement = prob_agreement(rounds, "plain_probs", prefix=True)
    agreement_logprobs = prob_agreement(rounds, "plain_logprobs", prefix=False)
    same_ids = same_token_ids(rounds, "plain_probs")
    relative = agreement["max_relative_difference"]
    baseline_same_work = (
        same_ids
        and relative is not None
        and float(relative) < PROB_AGREEMENT
        and int(agreement["compared"] or 0) >= asks
    )
    engine_s = median([r["engine"].seconds for r in used])
    in_requests = median([r["engine"].in_requests_s for r in used])
    host = median([r["engine"].host_compute_s for r in used])
    for side in SIDES:
        print(
            f"{side:14s}: {qpm[side]:5.2f} questions/min, {seconds[side]:6.2f} s per quiz, "
            f"{tps[side]:5.1f} tokens/s (medians)"
        )
    met = ratio >= RATIO_GOAL
    print(
        f"engine ÷ plain with probabilities (logits_all=False) {ratio:.3f} (goal ≥ "
        f"{RATIO_GOAL}: {'met' if met else 'MISSED'}); ÷ plain with logprobs (logits_all=True) "
        f"{ratios['plain_logprobs']:.3f}; ÷ plain without probabilities {ratios['plain']:.3f}"
    )
    print(
        f"engine quiz {engine_s:.2f} s: host computing {host:.2f} s, requests' round trips "
        f"{in_requests - host:+.2f} s, the task outside requests (prompts, grading, signals, "
        f"queueing) {engine_s - in_requests:+.2f} s (medians)"
    )
    print(
        f"tokens per quiz: {', '.join(f'{s} {tokens[s][0]}' for s in SIDES)} (round 1); "
        f"asks where llama-cpp-python made more tokens than the engine: {more}, fewer: {fewer}"
    )
    print(
        "token-normalised: engine ÷ "
        + ", ".join(f"{side} {value:.3f}" for side, value in ratios_norm.items())
    )
    print(
        f"token probabilities, engine vs plain_probs: max relative difference "
        f"{relative if relative is not None else float('nan'):.2g} over "
        f"{agreement['compared']} tokens, same token ids: {same_ids}; vs logprobs: "
        f"{agreement_logprobs['max_relative_difference'] or float('nan'):.2g}"
    )
    if not baseline_same_work:
        print("WARNING: plain_probs did not make the engine's tokens and probabilities")
    first = rounds[0]["engine"]
    return {
        "questions": questions,
        "samples": SAMPLES,
        "open_book": True,
        "max_tokens": MAX_TOKENS,
        "asks_per_quiz": asks,
        "article": ARTICLE,
        "prompt_tokens_min": min(first.prompt_tokens),  # closed book
        "prompt_tokens_max": max(first.prompt_tokens),  # open book
        "threads": THREADS,
        "rounds_run": len(rounds),
        "rounds_used": len(used),
        "contended": contended,
        "tokens_generated": tokens,
        "stop_reasons": {side: rounds[0][side].stop_reasons for side in SIDES},
        "asks_llama_cpp_made_more_tokens": more,
        "asks_llama_cpp_made_fewer_tokens": fewer,
        "same_prompt_token_counts": all(
            r[side].prompt_tokens == r["engine"].prompt_tokens for r in rounds for side in SIDES
        ),
        # the headline baseline computes what the engine computes: the same token ids, the
        # same probabilities (engine vs plain_probs, token by token)
        "plain_probs_same_token_ids": same_ids,
        "max_prob_difference": agreement["max_difference"],
        "max_prob_relative_difference": relative,
        "probs_compared": agreement["compared"],
        "baseline_same_work": baseline_same_work,
        # and vs llama-cpp-python's own logprobs (asks with as many tokens on both sides)
        "max_prob_difference_vs_logprobs": agreement_logprobs["max_difference"],
        "max_prob_relative_difference_vs_logprobs": agreement_logprobs["max_relative_difference"],
        "probs_compared_vs_logprobs": agreement_logprobs["compared"],
        **{f"{side}_questions_per_min": qpm[side] for side in SIDES},
        **{f"{side}_seconds": seconds[side] for side in SIDES},
        **{f"{side}_tokens_per_s": tps[side] for side in SIDES},
        "ratio": ratio,  # engine ÷ plain_probs: the goal is judged on this one
        "ratio_baseline": "plain_probs",
        "ratio_pairwise_median": pairwise["plain_probs"],
        "ratio_token_normalised": ratios_norm["plain_probs"],
        "ratio_vs_plain_logprobs": ratios["plain_logprobs"],
        "ratio_vs_plain_logprobs_token_normalised": ratios_norm["plain_logprobs"],
        "ratio_vs_plain_logprobs_pairwise_median": pairwise["plain_logprobs"],
        "ratio_vs_plain_without_probs": ratios["plain"],
        "ratio_vs_plain_without_probs_token_normalised": ratios_norm["plain"],
        "ratio_vs_plain_without_probs_pairwise_median": pairwise["plain"],
        "engine_host_compute_s": host,
        "engine_request_round_trips_s": in_requests - host,
        "engine_outside_requests_s": engine_s - in_requests,
        "engine_host_decode_tokens_per_s": median(
            [r["engine"].host_decode_tokens_per_s for r in used]
        ),
        "runs": [
            {
                "foreign_load": max(run.foreign_load for run in r.values()),
                **{f"{side}_seconds": r[side].seconds for side in SIDES},
                "engine_in_requests_s": r["engine"].in_requests_s,
                "engine_host_compute_s": r["engine"].host_compute_s,
            }
            for r in rounds
        ],
        "ratio_goal": RATIO_GOAL,
        "ratio_goal_met": met,
        # a baseline that does not make the same tokens and probabilities proves nothing
        "goals_met": met and baseline_same_work,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Engine overhead: decode speed and time to first token through the app's real path.

Engine path: the GUI thread hands a `ReplyTask` to `InferenceEngine` (in its QThread), which
sends the request to the model-host child process; tokens come back through the pipe and
the engine's `token` signal, queued to a receiver QObject in the GUI thread's event loop.
Baselines, in this process, same file, threads, context, prompt and greedy sampling:
`lowlevel`, the fastest path llama.cpp offers from Python - a bare loop of `llama_decode`
and llama.cpp's own greedy sampler, nothing else per token (the goal is judged against
it); `plain`, `llama_cpp.Llama.generate()` (what most apps call). A diagnostic path runs
the app's `LlamaCppBackend` in this process (its per-token Python work, without the
process, pipe, thread and signals), to tell where a gap comes from.

All are timed the same way: decode speed = (tokens - 1) / (last token time - first token
time); time to first token (TTFT) = request to first token received, in the GUI thread.
Runs alternate (plain, backend, engine, then backend, engine, plain, ...: the order
rotates, so no side always runs first) and medians are reported, to cancel drift. Only
one side computes at a time: the others' models sit idle (the host blocks on its pipe),
so they never compete for the two cores.

On a shared machine, rounds during which other processes used the CPUs are measured but
left out of the medians (up to MAX_ROUNDS rounds are run to get CLEAN_ROUNDS clean ones;
failing that, the CLEAN_ROUNDS quietest are used and the figures say "contended").

Each round uses a prompt whose first token differs from the previous one, so
llama-cpp-python's prefix cache never applies: every side starts from a cold KV cache.

Quick mode (`--quick`): a tiny model (common.tiny_gguf), one thread, 16 tokens, one round.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
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
N_TOKENS = 16 if QUICK else 128
THREADS = 1 if QUICK else 2  # quick: two threads collapse on a busy 2-core machine
CONTEXT = 2048
# rounds (plain, backend, engine) measured without other load on the machine
CLEAN_ROUNDS = 1 if QUICK else 7
MAX_ROUNDS = 1 if QUICK else 20  # give up waiting for a quiet machine after this many
FOREIGN_LOAD_LIMIT = 0.03  # a run is "clean" if other processes used ≤ 3 % of the CPUs
SETTLE_S = 0.05 if QUICK else 0.3  # idle pause between runs: OpenMP workers go to sleep
TTFT_GOAL_MS = 20.0
RATIO_GOAL = 0.97
# Short, so prompt processing (identical on all sides) adds little noise to the TTFT gap.
PROMPT_BODY = " The history of the language model begins with counting words."
# One leading letter per round: the first token differs, so no prefix of the KV cache is
# reused, and every prompt has the same length.
LEADS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Greedy, and no sampler stage that could differ: the same tokens come out of every side.
SAMPLING = dict(temperature=0.0, top_p=1.0, top_k=0, min_p=0.0, repeat_penalty=1.0, seed=1)
SIDES = ("lowlevel", "plain", "backend", "engine")


@dataclass
class Run:
    side: str
    prompt_tokens: int = 0
    token_ids: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # perf_counter when each token arrived
    start: float = 0.0
    stop_reason: str = ""
    host_tokens_per_s: float = float("nan")  # engine only: measured inside the host
    foreign_load: float = 0.0  # share of the CPUs other processes used during the run

    @property
    def tokens(self) -> int:
        return len(self.times)

    @property
    def ttft_ms(self) -> float:
        return (self.times[0] - self.start) * 1000 if self.times else float("nan")

    @property
    def tokens_per_s(self) -> float:
        if len(self.times) < 2:
            return float("nan")
        return (len(self.times) - 1) / (self.times[-1] - self.times[0])

    def describe(self) -> str:
        host = f", host's own figure {self.host_tokens_per_s:.1f}" if self.side == "engine" else ""
        return (
            f"  {self.side:7s} {self.tokens:4d} tokens ({self.stop_reason}), prompt "
            f"{self.prompt_tokens} tokens, TTFT {self.ttft_ms:6.1f} ms, "
            f"{self.tokens_per_s:6.1f} tokens/s{host}, other load {self.foreign_load:4.0%}"
        )


def prompt(round_no: int) -> str:
    return LEADS[round_no % len(LEADS)] + PROMPT_BODY


def generation_request(text: str, request_id: int) -> Any:
    from desktop.core.chat.generation import GenerationRequest, SamplingSettings

    sampling = SamplingSettings(max_tokens=N_TOKENS, **SAMPLING)  # type: ignore[arg-type]
    return GenerationRequest(request_id=request_id, prompt=text, sampling=sampling)


# ---- plain llama-cpp-python --------------------------------------------------------------


def prompt_ids(llm: Any, text: str) -> list[int]:
    """Exactly what the app's llama backend feeds llama.cpp (`LlamaCppBackend._prompt_ids`)."""
    ids = list(llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))
    bos = llm.token_bos()
    if len(ids) > 1 and ids[0] == bos and ids[1] == bos:
        ids = ids[1:]
    return ids


def run_plain(llm: Any, text: str, _request_id: int) -> Run:
    import llama_cpp

    vocab = llm._model.vocab
    start = time.perf_counter()
    ids = prompt_ids(llm, text)
    run = Run("plain", len(ids), start=start)
    tokens = llm.generate(
        ids,
        top_k=SAMPLING["top_k"],
        top_p=SAMPLING["top_p"],
        min_p=SAMPLING["min_p"],
        temp=SAMPLING["temperature"],
        repeat_penalty=SAMPLING["repeat_penalty"],
    )
    run.stop_reason = "eos"
    for token in tokens:
        now = time.perf_counter()
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            break
        run.times.append(now)
        run.token_ids.append(int(token))
        if len(run.times) >= N_TOKENS:
            run.stop_reason = "length"
            break
    tokens.close()
    return run


# ---- the fastest Python path: llama_decode and llama.cpp's greedy sampler, nothing else --


def run_lowlevel(llm: Any, text: str, _request_id: int) -> Run:
    import ctypes

    import llama_cpp

    ctx, vocab = llm._ctx.ctx, llm._model.vocab
    start = time.perf_counter()
    ids = prompt_ids(llm, text)
    run = Run("lowlevel", len(ids), start=start)
    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)  # a cold cache
    sampler = llama_cpp.llama_sampler_init_greedy()
    token = (llama_cpp.llama_token * 1)()
    try:
        prompt = (llama_cpp.llama_token * len(ids))(*ids)
        if llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(prompt, len(ids))) != 0:
            raise SystemExit("llama_decode failed on the prompt")
        run.stop_reason = "length"
        while len(run.times) < N_TOKENS:
            token[0] = llama_cpp.llama_sampler_sample(sampler, ctx, -1)
            now = time.perf_counter()
            if llama_cpp.llama_vocab_is_eog(vocab, token[0]):
                run.stop_reason = "eos"
                break
            run.times.append(now)
            run.token_ids.append(int(token[0]))
            if len(run.times) == N_TOKENS:
                break
            batch = llama_cpp.llama_batch_get_one(ctypes.cast(token, ctypes.POINTER(
                llama_cpp.llama_token)), 1)  # fmt: skip
            if llama_cpp.llama_decode(ctx, batch) != 0:
                raise SystemExit("llama_decode failed")
    finally:
        llama_cpp.llama_sampler_free(sampler)
    llm.n_tokens = 0  # Llama.generate must not reuse what this loop left in the cache
    return run


# ---- the app's backend, in this process (diagnostic) -----------------------------------


def run_backend(backend: Any, text: str, request_id: int) -> Run:
    from desktop.core.chat.generation import GenerationStats

    run = Run("backend")
    request = generation_request(text, request_id)
    run.start = time.perf_counter()
    for item in backend.stream(request, lambda: False):
        now = time.perf_counter()
        if isinstance(item, GenerationStats):
            run.stop_reason = item.stop_reason
            run.prompt_tokens = item.prompt_tokens
        else:
            run.times.append(now)
            run.token_ids.append(item.token_id)
    return run


# ---- the engine: QThread + model-host process + signals ---------------------------------


def receiver_class() -> Any:
    from PySide6.QtCore import Slot

    from desktop.core.chat.generation import GenerationStats, TokenEvent

    class Receiver(receiver_base()):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.run: Run | None = None
            self.request_id = 0

        @Slot(object)
        def on_tokens(self, batch: tuple[TokenEvent, ...]) -> None:
            now = time.perf_counter()  # a batch's tokens all reach the GUI now
            if self.run is not None:
                for event in batch:
                    self.run.times.append(now)
                    self.run.token_ids.append(event.token_id)

        @Slot(object)
        def on_finished(self, reply: Any) -> None:
            stats: GenerationStats = reply.stats
            if self.run is not None and stats.request_id == self.request_id:
                self.run.stop_reason = stats.stop_reason
                self.run.prompt_tokens = stats.prompt_tokens
                self.run.host_tokens_per_s = stats.tokens_per_s
                self._done()

        @Slot(str, str)
        def on_ended(self, status: str, message: str) -> None:
            if status == "failed":
                self.error = message
                self._done()

    return Receiver


def start_engine(path: str) -> tuple[Any, Any]:
    from desktop.engine.inference_engine import InferenceEngine

    engine = InferenceEngine()
    receiver = receiver_class()()
    start_model(engine, receiver, path, CONTEXT, THREADS)
    return engine, receiver


def run_engine(engine_and_receiver: tuple[Any, Any], text: str, request_id: int) -> Run:
    engine, receiver = engine_and_receiver
    receiver.request_id = request_id
    receiver.run = run = Run("engine")
    from desktop.engine.engine_task import ReplyTask

    task = ReplyTask(generation_request(text, request_id))  # its answers reach only us
    task.tokens.connect(receiver.on_tokens)
    task.finished.connect(receiver.on_finished)
    task.ended.connect(receiver.on_ended)
    run.start = time.perf_counter()
    engine.run_task(task)
    receiver.wait(120)
    if receiver.error:
        raise SystemExit(f"engine generation failed: {receiver.error}")
    if not run.stop_reason:
        raise SystemExit("engine generation timed out")
    return run


# ---- measuring -------------------------------------------------------------------------


def settle() -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(SETTLE_S * 1000), loop.quit)
    loop.exec()


def measured(run_fn: Callable[[Any, str, int], Run], target: Any, text: str, rid: int) -> Run:
    load = ForeignLoad()
    load.start()
    run = run_fn(target, text, rid)
    run.foreign_load = load.stop()
    return run


def main() -> int:
    isolate_home()
    from desktop.engine.llama_runtime import llama_module

    llama_cpp = llama_module()  # the CPU backend the app's host loads
    from PySide6.QtWidgets import QApplication

    from desktop.core.chat.generation import LoadSettings
    from desktop.engine.llama_backend import LlamaCppBackend

    app = QApplication.instance() or QApplication(sys.argv)
    emit_leak = survive_emit_leak()
    load_before = machine()
    path = str(bench_gguf())
    print(f"model: {path}")
    print(f"{N_TOKENS} tokens per run, greedy, {THREADS} threads, context {CONTEXT}")

    llm = llama_cpp.Llama(
        model_path=path, n_ctx=CONTEXT, n_threads=THREADS, n_threads_batch=THREADS, verbose=False
    )
    backend = LlamaCppBackend()
    backend.load(path, LoadSettings(context_size=CONTEXT, threads=THREADS), lambda _f: True)
    engine = start_engine(path)
    sides: dict[str, tuple[Callable[[Any, str, int], Run], Any]] = {
        "lowlevel": (run_lowlevel, llm),
        "plain": (run_plain, llm),
        "backend": (run_backend, backend),
        "engine": (run_engine, engine),
    }
    rounds: list[dict[str, Run]] = []
    try:
        # warm-up, not counted: first graph allocations, page cache, the host's first pickle
        for run_fn, target in sides.values():
            run_fn(target, prompt(len(LEADS) - 1), 1000)
            settle()
        while (
            len(rounds) < MAX_ROUNDS
            and len(clean_rounds(rounds, FOREIGN_LOAD_LIMIT)) < CLEAN_ROUNDS
        ):
            n = len(rounds)
            rounds.append({})
            turn = n % len(SIDES)
            order = SIDES[turn:] + SIDES[:turn]  # rotated: no side always goes first
            for side in order:
                run_fn, target = sides[side]
                rounds[-1][side] = run = measured(run_fn, target, prompt(n), n + 1)
                print(run.describe())
                settle()
    finally:
        engine[0].shutdown()
        backend.close()
        llm.close()
    del app
    emit(
        {
            "benchmark": "engine_overhead",
            "machine_at_start": load_before,
            "machine_at_end": machine(),
            "pyside_emit_leaks_true": emit_leak,
            **summarize(rounds),
        }
    )
    return 0


def summarize(rounds: list[dict[str, Run]]) -> dict[str, object]:
    used, contended = rounds_to_use(rounds, CLEAN_ROUNDS, FOREIGN_LOAD_LIMIT)

    def med(side: str, attr: str) -> float:
        return median([getattr(r[side], attr) for r in used])

    tps = {side: med(side, "tokens_per_s") for side in SIDES}
    ttft = {side: med(side, "ttft_ms") for side in SIDES}
    host_tps = med("engine", "host_tokens_per_s")
    ratio = tps["engine"] / tps["lowlevel"]  # against the fastest path there is
    ratio_plain = tps["engine"] / tps["plain"]
    overhead = ttft["engine"] - ttft["lowlevel"]
    same_tokens = all(
        r["lowlevel"].token_ids == r["plain"].token_ids == r["engine"].token_ids
        == r["backend"].token_ids for r in rounds
    )  # fmt: skip
    for side in SIDES:
        print(f"{side:7s}: {tps[side]:6.1f} tokens/s, TTFT {ttft[side]:5.1f} ms (medians)")
    print(f"host's own figure for the engine runs: {host_tps:.1f} tokens/s")
    print(
        f"engine ÷ low-level loop {ratio:.3f} (goal ≥ {RATIO_GOAL}: "
        f"{'met' if ratio >= RATIO_GOAL else 'MISSED'}); engine ÷ Llama.generate "
        f"{ratio_plain:.3f}; backend ÷ low-level {tps['backend'] / tps['lowlevel']:.3f}"
    )
    print(
        f"TTFT overhead {overhead:+.1f} ms "
        f"(goal ≤ {TTFT_GOAL_MS:.0f} ms: {'met' if overhead <= TTFT_GOAL_MS else 'MISSED'})"
    )
    print(f"same tokens on every side: {same_tokens}")
    return {
        "tokens_requested": N_TOKENS,
        "threads": THREADS,
        "rounds_run": len(rounds),
        "rounds_used": len(used),
        "contended": contended,
        "tokens_generated": {side: [r[side].tokens for r in rounds] for side in SIDES},
        "prompt_tokens": rounds[0]["engine"].prompt_tokens,
        "same_tokens": same_tokens,
        "lowlevel_tokens_per_s": tps["lowlevel"],
        "plain_tokens_per_s": tps["plain"],
        "engine_tokens_per_s": tps["engine"],
        "backend_in_process_tokens_per_s": tps["backend"],
        "engine_host_tokens_per_s": host_tps,
        "ratio": ratio,  # engine ÷ the low-level loop
        "ratio_vs_llama_generate": ratio_plain,
        "ratio_pairwise_median": median(
            [r["engine"].tokens_per_s / r["lowlevel"].tokens_per_s for r in used]
        ),
        "backend_in_process_ratio": tps["backend"] / tps["lowlevel"],
        "lowlevel_ttft_ms": ttft["lowlevel"],
        "plain_ttft_ms": ttft["plain"],
        "engine_ttft_ms": ttft["engine"],
        "backend_in_process_ttft_ms": ttft["backend"],
        "ttft_overhead_ms": overhead,
        "ttft_overhead_pairwise_median_ms": median(
            [r["engine"].ttft_ms - r["lowlevel"].ttft_ms for r in used]
        ),
        "runs": [
            {
                "foreign_load": max(run.foreign_load for run in r.values()),
                **{f"{side}_tokens_per_s": r[side].tokens_per_s for side in SIDES},
                **{f"{side}_ttft_ms": r[side].ttft_ms for side in SIDES},
            }
            for r in rounds
        ],
        "ratio_goal": RATIO_GOAL,
        "ttft_overhead_goal_ms": TTFT_GOAL_MS,
        "ratio_goal_met": ratio >= RATIO_GOAL,
        "ttft_goal_met": overhead <= TTFT_GOAL_MS,
        "goals_met": ratio >= RATIO_GOAL and overhead <= TTFT_GOAL_MS,
    }


if __name__ == "__main__":
    sys.exit(main())

"""Engine overhead: decode speed and time to first token through the app's real path.

Engine path: the GUI thread emits `generate_requested`; `InferenceEngine` (in its QThread)
sends the request to the model-host child process; tokens come back through the pipe and
the engine's `token` signal, queued to a receiver QObject in the GUI thread's event loop.
Plain path: `llama_cpp.Llama.generate()` in this process, same file, threads, context,
prompt and greedy sampling.

Both are timed in the GUI thread the same way: decode speed = (tokens - 1) / (last token
time - first token time); time to first token = request to first token received. Runs
alternate (plain, engine, plain, engine, ...) and medians are reported, to cancel drift.
On a shared machine, pairs during which other processes used the CPUs are measured but
left out of the medians (up to MAX_PAIRS pairs are run to get CLEAN_PAIRS clean ones).
The plain model is idle while the engine runs and the host is idle (blocked on its pipe)
while the plain model runs, so they never compete for the two cores.

Each repetition uses a prompt whose first token differs from the previous one, so
llama-cpp-python's prefix cache never applies: both sides start from a cold KV cache.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ForeignLoad,
    emit,
    isolate_home,
    machine,
    median,
    smollm2_gguf,
    survive_emit_leak,
)

# Qt and the app are imported in main(), after DEEPDIVE_HOME is set, and never at the top
# level: the model host starts with multiprocessing "spawn", which re-runs this file's top
# level in the child.

N_TOKENS = 128
CLEAN_PAIRS = 7  # pairs (plain run + engine run) measured without other load on the machine
MAX_PAIRS = 20  # give up waiting for a quiet machine after this many
FOREIGN_LOAD_LIMIT = 0.05  # a run is "clean" if other processes used ≤ 5 % of the CPUs
THREADS = 2
CONTEXT = 2048
SETTLE_S = 0.3  # idle pause between runs: lets the other side's OpenMP workers go to sleep
TTFT_GOAL_MS = 20.0
RATIO_GOAL = 0.97
# Short, so prompt processing (identical on both sides) adds little noise to the TTFT gap.
PROMPT_BODY = " The history of the language model begins with counting words."
# One leading letter per run: the first token differs, so no prefix of the KV cache is
# reused, and every prompt has the same length.
LEADS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Greedy, and no sampler stage that could differ: the same tokens come out of both sides.
SAMPLING = dict(temperature=0.0, top_p=1.0, top_k=0, min_p=0.0, repeat_penalty=1.0, seed=1)


@dataclass
class Run:
    side: str
    prompt_tokens: int
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


def prompt(rep: int) -> str:
    return LEADS[rep % len(LEADS)] + PROMPT_BODY


def prompt_ids(llm: object, text: str) -> list[int]:
    """Exactly what the app's llama backend feeds llama.cpp (`LlamaCppBackend._prompt_ids`)."""
    ids = list(llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))  # type: ignore[attr-defined]
    bos = llm.token_bos()  # type: ignore[attr-defined]
    if len(ids) > 1 and ids[0] == bos and ids[1] == bos:
        ids = ids[1:]
    return ids


def run_plain(llm: object, text: str) -> Run:
    import llama_cpp

    vocab = llm._model.vocab  # type: ignore[attr-defined]
    start = time.perf_counter()
    ids = prompt_ids(llm, text)
    run = Run("plain", len(ids), start=start)
    tokens = llm.generate(  # type: ignore[attr-defined]
        ids,
        top_k=SAMPLING["top_k"],
        top_p=SAMPLING["top_p"],
        min_p=SAMPLING["min_p"],
        temp=SAMPLING["temperature"],
        repeat_penalty=SAMPLING["repeat_penalty"],
    )
    for token in tokens:
        now = time.perf_counter()
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            run.stop_reason = "eos"
            break
        run.times.append(now)
        run.token_ids.append(int(token))
        if len(run.times) >= N_TOKENS:
            run.stop_reason = "length"
            break
    tokens.close()
    return run


def receiver_class() -> Any:
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot

    from desktop.core.generation import GenerationStats, TokenEvent
    from desktop.engine.protocol import LoadedModel

    class Receiver(QObject):
        """Lives in the GUI thread: the engine's signals arrive here through the event queue."""

        def __init__(self) -> None:
            super().__init__()
            self.loop: QEventLoop | None = None
            self.model: LoadedModel | None = None
            self.error = ""
            self.run: Run | None = None
            self.request_id = 0

        def wait(self, timeout_s: float) -> None:
            loop = QEventLoop()
            self.loop = loop
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
            self.loop = None

        def _done(self) -> None:
            if self.loop is not None:
                self.loop.quit()

        @Slot(object)
        def on_loaded(self, model: LoadedModel) -> None:
            self.model = model
            self._done()

        @Slot(str)
        def on_load_failed(self, message: str) -> None:
            self.error = message
            self._done()

        @Slot(int, object)
        def on_token(self, request_id: int, event: TokenEvent) -> None:
            now = time.perf_counter()
            if self.run is not None and request_id == self.request_id:
                self.run.times.append(now)
                self.run.token_ids.append(event.token_id)

        @Slot(object)
        def on_finished(self, stats: GenerationStats) -> None:
            if self.run is not None and stats.request_id == self.request_id:
                self.run.stop_reason = stats.stop_reason
                self.run.prompt_tokens = stats.prompt_tokens
                self.run.host_tokens_per_s = stats.tokens_per_s
                self._done()

        @Slot(int, str)
        def on_failed(self, request_id: int, message: str) -> None:
            self.error = message
            self._done()

    return Receiver


def run_engine(engine: Any, receiver: Any, text: str, request_id: int) -> Run:
    from desktop.core.generation import GenerationRequest, SamplingSettings

    receiver.request_id = request_id
    receiver.run = run = Run("engine", 0)
    sampling = SamplingSettings(max_tokens=N_TOKENS, **SAMPLING)  # type: ignore[arg-type]
    request = GenerationRequest(request_id=request_id, prompt=text, sampling=sampling)
    run.start = time.perf_counter()
    engine.generate_requested.emit(request)
    receiver.wait(120)
    if receiver.error:
        raise SystemExit(f"engine generation failed: {receiver.error}")
    if not run.stop_reason:
        raise SystemExit("engine generation timed out")
    return run


def describe(run: Run) -> str:
    return (
        f"  {run.side:6s} {run.tokens:4d} tokens ({run.stop_reason}), "
        f"prompt {run.prompt_tokens} tokens, TTFT {run.ttft_ms:6.1f} ms, "
        f"{run.tokens_per_s:6.1f} tokens/s, other load {run.foreign_load:4.0%}"
        + (f" (host's own figure {run.host_tokens_per_s:.1f})" if run.side == "engine" else "")
    )


def settle() -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(SETTLE_S * 1000), loop.quit)
    loop.exec()


def main() -> int:
    isolate_home()
    import llama_cpp
    from PySide6.QtWidgets import QApplication

    from desktop.core.generation import LoadSettings
    from desktop.engine.inference_engine import InferenceEngine

    app = QApplication.instance() or QApplication(sys.argv)
    emit_leak = survive_emit_leak()
    load_before = machine()
    path = str(smollm2_gguf())
    print(f"model: {path}")
    print(f"{N_TOKENS} tokens per run, greedy, {THREADS} threads, context {CONTEXT}")

    llm = llama_cpp.Llama(
        model_path=path, n_ctx=CONTEXT, n_threads=THREADS, n_threads_batch=THREADS, verbose=False
    )
    engine = InferenceEngine()
    receiver = receiver_class()()
    engine.model_loaded.connect(receiver.on_loaded)
    engine.load_failed.connect(receiver.on_load_failed)
    engine.token.connect(receiver.on_token)
    engine.finished.connect(receiver.on_finished)
    engine.failed.connect(receiver.on_failed)
    engine.start()
    try:
        engine.load_requested.emit(path, LoadSettings(context_size=CONTEXT, threads=THREADS))
        receiver.wait(120)
        if receiver.model is None:
            raise SystemExit(f"engine could not load the model: {receiver.error or 'timeout'}")
        print(f"engine loaded the model in {receiver.model.load_seconds:.2f} s (host process)")

        # warm-up, not counted: first graph allocations, page cache, the host's first pickle
        run_plain(llm, prompt(len(LEADS) - 1))
        settle()
        run_engine(engine, receiver, prompt(len(LEADS) - 1), request_id=1000)
        settle()

        plain: list[Run] = []
        via_engine: list[Run] = []
        while len(plain) < MAX_PAIRS and len(clean_pairs(plain, via_engine)) < CLEAN_PAIRS:
            rep = len(plain)
            plain.append(measured(run_plain, llm, prompt(rep)))
            print(describe(plain[-1]))
            settle()
            via_engine.append(measured(run_engine, engine, receiver, prompt(rep), rep + 1))
            print(describe(via_engine[-1]))
            settle()
    finally:
        engine.shutdown()
        llm.close()
    del app
    emit(
        {
            "benchmark": "engine_overhead",
            "machine_at_start": load_before,
            "machine_at_end": machine(),
            "pyside_emit_leaks_true": emit_leak,
            **summarize(plain, via_engine),
        }
    )
    return 0


def measured(run_fn: Any, *args: Any) -> Run:
    load = ForeignLoad()
    load.start()
    run: Run = run_fn(*args)
    run.foreign_load = load.stop()
    return run


def clean_pairs(plain: list[Run], via_engine: list[Run]) -> list[tuple[Run, Run]]:
    return [
        (p, e)
        for p, e in zip(plain, via_engine, strict=False)
        if max(p.foreign_load, e.foreign_load) <= FOREIGN_LOAD_LIMIT
    ]


def summarize(plain: list[Run], via_engine: list[Run]) -> dict[str, object]:
    pairs = clean_pairs(plain, via_engine)
    contended = len(pairs) < CLEAN_PAIRS
    if contended:
        print(
            f"WARNING: only {len(pairs)} of {len(plain)} pairs ran without other load on the "
            "machine; the figures below use all pairs and are less reliable."
        )
        pairs = list(zip(plain, via_engine, strict=True))
    else:
        print(f"{len(pairs)} of {len(plain)} pairs ran without other load; figures use those.")
    clean_plain = [p for p, _e in pairs]
    clean_engine = [e for _p, e in pairs]
    same_tokens = all(p.token_ids == e.token_ids for p, e in zip(plain, via_engine, strict=True))
    plain_tps = median([r.tokens_per_s for r in clean_plain])
    engine_tps = median([r.tokens_per_s for r in clean_engine])
    host_tps = median([r.host_tokens_per_s for r in clean_engine])
    plain_ttft = median([r.ttft_ms for r in clean_plain])
    engine_ttft = median([r.ttft_ms for r in clean_engine])
    ratio = engine_tps / plain_tps
    overhead = engine_ttft - plain_ttft
    print(f"plain : {plain_tps:.1f} tokens/s, TTFT {plain_ttft:.1f} ms (medians)")
    print(
        f"engine: {engine_tps:.1f} tokens/s, TTFT {engine_ttft:.1f} ms (medians, GUI thread); "
        f"host's own figure {host_tps:.1f} tokens/s"
    )
    print(
        f"ratio {ratio:.3f} (goal ≥ {RATIO_GOAL}: {'met' if ratio >= RATIO_GOAL else 'MISSED'}),"
        f" TTFT overhead {overhead:+.1f} ms "
        f"(goal ≤ {TTFT_GOAL_MS:.0f} ms: {'met' if overhead <= TTFT_GOAL_MS else 'MISSED'})"
    )
    print(f"same tokens on both sides: {same_tokens}")
    return {
        "tokens_requested": N_TOKENS,
        "threads": THREADS,
        "pairs_run": len(plain),
        "pairs_used": len(pairs),
        "contended": contended,
        "plain_tokens": [r.tokens for r in plain],
        "engine_tokens": [r.tokens for r in via_engine],
        "prompt_tokens": via_engine[0].prompt_tokens,
        "same_tokens": same_tokens,
        "plain_tokens_per_s": plain_tps,
        "engine_tokens_per_s": engine_tps,
        "engine_host_tokens_per_s": host_tps,
        "ratio": ratio,
        "ratio_pairwise_median": median([e.tokens_per_s / p.tokens_per_s for p, e in pairs]),
        "plain_ttft_ms": plain_ttft,
        "engine_ttft_ms": engine_ttft,
        "ttft_overhead_ms": overhead,
        "ttft_overhead_pairwise_median_ms": median([e.ttft_ms - p.ttft_ms for p, e in pairs]),
        "runs": [
            {
                "plain_tokens_per_s": p.tokens_per_s,
                "engine_tokens_per_s": e.tokens_per_s,
                "plain_ttft_ms": p.ttft_ms,
                "engine_ttft_ms": e.ttft_ms,
                "foreign_load": max(p.foreign_load, e.foreign_load),
            }
            for p, e in zip(plain, via_engine, strict=True)
        ],
        "ratio_goal": RATIO_GOAL,
        "ttft_overhead_goal_ms": TTFT_GOAL_MS,
        "ratio_goal_met": ratio >= RATIO_GOAL,
        "ttft_goal_met": overhead <= TTFT_GOAL_MS,
    }


if __name__ == "__main__":
    sys.exit(main())

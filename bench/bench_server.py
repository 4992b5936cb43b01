"""API server overhead: decode tokens/s through the app's `/v1/chat/completions`
(streaming, the official `openai` client, over loopback) against plain llama-cpp-python
on the same model, and against llama-cpp-python's own server (`llama_cpp.server`) when its
extra packages are installed.

Sides, same GGUF, threads, context, greedy sampling and number of tokens:
* `plain`: `Llama.generate()` in this process on exactly the prompt text the app's server
  builds (the model's chat template applied to the same messages), tokens timed as they
  come out of the generator;
* `server`: `deepdive-lab`'s ApiServer (SessionRunner + HostSession: the model-host child
  process, the pipe, the HTTP thread, SSE), asked by the `openai` client in this process,
  tokens timed as chunks arrive;
* `llama_cpp_server`: `python -m llama_cpp.server` in a child process, asked the same way.

Decode speed = (tokens - 1) / (last token time - first token time), where the token count
is the server's own `usage.completion_tokens` (a token that is only part of a UTF-8
character arrives inside the next chunk). Runs alternate with a rotating order, each round
uses a prompt with a different first letter (no prefix cache), only one side computes at
a time, and rounds during which other processes used the CPUs are left out of the medians
(common.rounds_to_use), as in bench_engine_overhead.py.

Quick mode (`--quick`): a tiny model, one thread, 16 tokens, one round.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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
)

QUICK = quick_mode()
N_TOKENS = 16 if QUICK else 128
THREADS = 1 if QUICK else 2
CONTEXT = 2048
CLEAN_ROUNDS = 1 if QUICK else 5
MAX_ROUNDS = 1 if QUICK else 15
FOREIGN_LOAD_LIMIT = 0.03
SETTLE_S = 0.05 if QUICK else 0.3
RATIO_GOAL = 0.95
LEADS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
QUESTION = " tell me about the history of language models, from counting words on."
SERVER_START_S = 120  # a guard against a hang, not a measurement
# llama-cpp-python's server, started after the CPU backend the app loads (a portable build
# loads none by itself; DESIGN.md): every side then runs the same llama.cpp code.
LAUNCH_LLAMA_CPP_SERVER = (
    "import runpy, sys; sys.path.insert(0, '.'); "
    "from desktop.engine.llama_runtime import llama_module; llama_module(); "
    "sys.argv[0] = 'llama_cpp.server'; runpy.run_module('llama_cpp.server', run_name='__main__')"
)


@dataclass
class Run:
    side: str
    times: list[float] = field(default_factory=list)
    tokens: int = 0
    text: str = ""
    foreign_load: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        if self.tokens < 2 or len(self.times) < 2 or self.times[-1] <= self.times[0]:
            return float("nan")
        return (self.tokens - 1) / (self.times[-1] - self.times[0])


def messages(round_no: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": LEADS[round_no % len(LEADS)] + QUESTION}]


def request(round_no: int) -> dict[str, Any]:
    return {"model": "bench", "messages": messages(round_no), "temperature": 0.0,
            "top_p": 1.0, "max_tokens": N_TOKENS, "seed": 1, "stream": True,
            "stream_options": {"include_usage": True}}  # fmt: skip


# ---- the two servers, asked by the openai client ------------------------------------------


def run_client(client: Any, side: str, round_no: int) -> Run:
    run = Run(side)
    parts = []
    for chunk in client.chat.completions.create(**request(round_no)):
        now = time.perf_counter()
        if chunk.choices and chunk.choices[0].delta.content:
            run.times.append(now)
            parts.append(chunk.choices[0].delta.content)
        if chunk.usage is not None:
            run.tokens = chunk.usage.completion_tokens
    run.text = "".join(parts)
    run.tokens = run.tokens or len(run.times)
    return run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_llama_cpp_server(path: str) -> tuple[subprocess.Popen[bytes] | None, str]:
    """llama-cpp-python's own server, if its extra packages are installed here."""
    try:
        import fastapi  # noqa: F401
        import sse_starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return None, f"not installed ({exc.name}); pip install 'llama-cpp-python[server]'"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH_LLAMA_CPP_SERVER, "--model", path, "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", str(THREADS), "--n_threads_batch", str(THREADS),
         "--n_ctx", str(CONTEXT), "--model_alias", "bench", "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    import httpx2

    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                return process, f"http://127.0.0.1:{port}/v1"
        except httpx2.TransportError:
            time.sleep(0.2)
        if process.poll() is not None:
            return None, f"llama_cpp.server exited with code {process.returncode}"
    process.kill()
    return None, "llama_cpp.server did not start"


# ---- plain llama-cpp-python -----------------------------------------------------------


def run_plain(target: tuple[Any, dict[int, str]], round_no: int) -> Run:
    import llama_cpp

    llm, prompts = target
    run = Run("plain")
    ids = list(llm.tokenize(prompts[round_no].encode("utf-8"), add_bos=True, special=True))
    if len(ids) > 1 and ids[0] == ids[1] == llm.token_bos():
        ids = ids[1:]  # as the app's backend does
    vocab = llm._model.vocab
    out: list[int] = []
    tokens = llm.generate(ids, top_k=0, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0)
    for token in tokens:
        now = time.perf_counter()
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            break
        run.times.append(now)
        out.append(int(token))
        if len(out) >= N_TOKENS:
            break
    tokens.close()
    run.tokens = len(out)
    run.text = llm.detokenize(out).decode("utf-8", errors="replace")
    return run


def server_prompts(runner: Any, rounds: int) -> dict[int, str]:
    """The exact prompt text the app's server builds for each round's messages."""
    from desktop.core.api.api_requests import chat_call
    from desktop.engine.api_server.jobs import chat_prompt

    model = runner.loaded_model
    return {n: chat_prompt(model, chat_call(request(n)))[0] for n in range(rounds + 1)}


# ---- measuring -------------------------------------------------------------------------


def measured(side: str, target: Any, round_no: int) -> Run:
    load = ForeignLoad()
    load.start()
    run = run_plain(target, round_no) if side == "plain" else run_client(target, side, round_no)
    run.foreign_load = load.stop()
    return run


def main() -> int:
    isolate_home()
    from desktop.engine.llama_runtime import llama_module

    llama_cpp = llama_module()
    import openai

    from desktop.core.chat.generation import LoadSettings
    from desktop.engine.api_server import ApiServer, SessionRunner
    from desktop.engine.host_session import HostSession

    load_before = machine()
    path = str(bench_gguf())
    print(f"model: {path}\n{N_TOKENS} tokens per run, greedy, {THREADS} threads")
    session = HostSession()
    runner = SessionRunner(session)
    settings = LoadSettings(context_size=CONTEXT, threads=THREADS)
    runner.submit(lambda s, _t: s.load(path, settings)).result()
    server = ApiServer(runner, port=0)
    server.start()
    ours = openai.OpenAI(base_url=server.url, api_key="none", max_retries=0)
    prompts = server_prompts(runner, MAX_ROUNDS)
    llm = llama_cpp.Llama(model_path=path, n_ctx=CONTEXT, n_threads=THREADS,
                          n_threads_batch=THREADS, verbose=False)  # fmt: skip
    theirs_process, theirs_url = start_llama_cpp_server(path)
    print(f"llama_cpp.server: {theirs_url if theirs_process else 'skipped: ' + theirs_url}")
    sides: dict[str, Any] = {"plain": (llm, prompts), "server": ours}
    if theirs_process is not None:
        sides["llama_cpp_server"] = openai.OpenAI(base_url=theirs_url, api_key="none",
                                                  max_retries=0)  # fmt: skip
    names = tuple(sides)
    rounds: list[dict[str, Run]] = []
    try:
        for side, target in sides.items():  # warm-up, not counted
            measured(side, target, MAX_ROUNDS)
        while (len(rounds) < MAX_ROUNDS
               and len(clean_rounds(rounds, FOREIGN_LOAD_LIMIT)) < CLEAN_ROUNDS):  # fmt: skip
            n = len(rounds)
            rounds.append({})
            order = names[n % len(names) :] + names[: n % len(names)]
            for side in order:
                rounds[-1][side] = run = measured(side, sides[side], n)
                print(f"  {side:16s} {run.tokens:4d} tokens, {run.tokens_per_s:7.1f} tokens/s, "
                      f"other load {run.foreign_load:4.0%}")  # fmt: skip
                time.sleep(SETTLE_S)
    finally:
        server.stop()
        runner.close()
        session.close()
        llm.close()
        if theirs_process is not None:
            theirs_process.terminate()
            theirs_process.wait(10)
    emit({"benchmark": "server", "machine_at_start": load_before, "machine_at_end": machine(),
          **summarize(rounds, names, theirs_url if theirs_process is None else "")})  # fmt: skip
    return 0


def summarize(rounds: list[dict[str, Run]], names: tuple[str, ...], skipped: str) -> dict[str, Any]:
    used, contended = rounds_to_use(rounds, CLEAN_ROUNDS, FOREIGN_LOAD_LIMIT)
    tps = {side: median([r[side].tokens_per_s for r in used]) for side in names}
    ratio = tps["server"] / tps["plain"]
    same_text = all(r["server"].text == r["plain"].text for r in rounds)
    for side in names:
        print(f"{side:16s}: {tps[side]:7.1f} tokens/s (median)")
    print(f"server ÷ plain llama-cpp-python {ratio:.3f} (goal ≥ {RATIO_GOAL}: "
          f"{'met' if ratio >= RATIO_GOAL else 'MISSED'}); "
          f"same greedy text: {same_text}")  # fmt: skip
    theirs: dict[str, Any] = {"skipped": skipped} if skipped else {
        "tokens_per_s": tps["llama_cpp_server"],
        "ratio_server_vs_it": ratio and tps["server"] / tps["llama_cpp_server"],
        "ratio_it_vs_plain": tps["llama_cpp_server"] / tps["plain"],
    }  # fmt: skip
    if not skipped:
        print(f"server ÷ llama_cpp.server {theirs['ratio_server_vs_it']:.3f}")
    return {
        "tokens_requested": N_TOKENS,
        "threads": THREADS,
        "rounds_run": len(rounds),
        "rounds_used": len(used),
        "contended": contended,
        "plain_tokens_per_s": tps["plain"],
        "server_tokens_per_s": tps["server"],
        "ratio": ratio,
        "ratio_goal_met": ratio >= RATIO_GOAL,
        "goals_met": ratio >= RATIO_GOAL,
        "same_text": same_text,
        "llama_cpp_server": theirs,
        "runs": [
            {
                "foreign_load": max(run.foreign_load for run in r.values()),
                **{f"{s}_tokens_per_s": r[s].tokens_per_s for s in names},
            }
            for r in rounds
        ],
    }


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())

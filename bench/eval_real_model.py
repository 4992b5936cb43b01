"""`make eval`: the app's chat, tokens and quiz on a real model (Gemma 3 270M base).

Everything goes through the app's own code: the model host (`HostSession`), the prompt
builder, `quiz_ask.ask`, the rule-made questions, `interrogate`, grading, verdicts and
the quiz store (in a temporary data folder: the eval's runs are not yours). Each bundled
article is quizzed with its rule-made questions, closed and open book, K=3.

stdout: one JSON line per article, then a summary line, last. stderr: what is going on,
the raw completions, and every question with its answers (for reading, not parsing).

The summary checks the shape the quiz should show on a real model, without tuning
anything to it: above zero closed book on the well-known articles, "hallucinates" on the
invented ones, open book above closed book on every article. A check that fails is
reported, not hidden; the exit code is 0 when the run itself completed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ForeignLoad, isolate_home, machine
from real_model import SHA256, gemma_gguf

# The raw completions: knowledge (Paris, 1911) and a confident invention (Velmora).
COMPLETIONS = (
    "The Eiffel Tower is located in the city of",
    "Marie Curie won the Nobel Prize in",
    "The island of Velmora is located in the",
)
SAMPLES = 3
QUESTIONS = 8
CONTEXT = 4096


def _say(text: str = "") -> None:
    print(text, file=sys.stderr, flush=True)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def completions(session: Any) -> list[dict[str, object]]:
    """Raw completions at temperature 0, as `deepdive-lab chat --mode raw` makes them."""
    from desktop.core.chat.chat_request import ChatRequest
    from desktop.core.chat.generation import ChatMessage, SamplingSettings
    from desktop.engine.chat_turn import ask

    found = []
    for prompt in COMPLETIONS:
        sampling = SamplingSettings(temperature=0.0, max_tokens=16, seed=0)
        reply = ask(session, ChatRequest((ChatMessage("user", prompt),), sampling, mode="raw"))
        _say(f"  {prompt!r} → {reply.text!r}")
        found.append({"prompt": prompt, "reply": reply.text})
    return found


def token_counts(session: Any, articles: Sequence[Any]) -> dict[str, object]:
    """Each article in the model's own tokens (the Tokens tab's GGUF tokenizer path)."""
    counts = {a.title: len(session.tokenize(0, a.text, False)[0]) for a in articles}
    chars = sum(len(a.text) for a in articles)
    return {"articles": counts, "characters_per_token": round(chars / sum(counts.values()), 2)}


def quiz_article(session: Any, store: Any, article: Any, kind: str, path: str) -> dict[str, Any]:
    from desktop.core.quiz.cloze import cloze_pairs
    from desktop.core.quiz.interrogation import interrogate
    from desktop.core.quiz.results import summarize
    from desktop.core.quiz.settings import QuizSettings
    from desktop.engine.quiz_ask import ask

    pairs = cloze_pairs(article.text, limit=QUESTIONS, topic=article.title)
    settings = QuizSettings(samples=SAMPLES, open_book=True, asked_as=kind)
    run_id = store.add_run(path, article.title, article.text, pairs, settings)
    answers = []
    load = ForeignLoad()
    load.start()
    start = time.perf_counter()
    for answer in interrogate(pairs, article.text, settings, lambda r: ask(session, r)):
        store.add_answer(run_id, answer)
        answers.append(answer)
    seconds = time.perf_counter() - start
    foreign = load.stop()
    store.set_status(run_id, "done")
    summary = summarize(pairs, answers, settings)
    _print_questions(summary, answers)
    forms = sorted({a.prompt.form for a in answers if a.prompt is not None})
    return {
        "article": article.title,
        "invented": article.invented,
        "questions": len(pairs),
        "samples": SAMPLES,
        "asked_as": kind,
        "prompt_forms": forms,
        "closed_book_accuracy": summary.closed_accuracy,
        "open_book_accuracy": summary.open_accuracy,
        "open_minus_closed": summary.open_book_gain,
        "declined": summary.not_attempted,
        "verdicts": summary.verdicts,
        "seconds": round(seconds, 1),
        "answers_per_min": round(len(answers) / seconds * 60, 1) if seconds else None,
        "foreign_load": round(foreign, 3),
    }


def _print_questions(summary: Any, answers: Sequence[Any]) -> None:
    for q in summary.questions:
        closed = [a for a in answers if a.question_index == q.index and a.mode == "closed"]
        opened = [a for a in answers if a.question_index == q.index and a.mode == "open"]
        _say(f"  {q.index + 1}. {q.pair.question}  [{q.pair.answer}] → {q.verdict}")
        for a in closed + opened:
            _say(f"       {a.mode:6s} {a.grade[:9]:9s} {a.confidence:.2f}  {a.text!r}")


def checks(lines: Sequence[dict[str, Any]]) -> dict[str, bool]:
    known = [line for line in lines if not line["invented"]]
    invented = [line for line in lines if line["invented"]]
    return {
        "closed_book_above_zero_on_known_articles": all(
            (line["closed_book_accuracy"] or 0) > 0 for line in known
        ),
        "hallucinates_on_invented_articles": all(
            line["verdicts"]["hallucinates"] > 0 for line in invented
        ),
        "open_book_above_closed_book_on_every_article": all(
            (line["open_book_accuracy"] or 0) > (line["closed_book_accuracy"] or 0)
            for line in lines
        ),
    }


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    # One core is left to everything else: llama.cpp with every core collapses as soon as
    # another process wants one (DESIGN.md: 1.1 vs 30 tokens/s on 2 contended cores).
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    args = parser.parse_args(argv)
    isolate_home()
    path = str(gemma_gguf())
    from desktop.core.chat.generation import LoadSettings
    from desktop.core.quiz.articles import bundled_articles
    from desktop.core.quiz.quiz_prompts import a_kind
    from desktop.core.quiz.quiz_store import QuizStore
    from desktop.engine.host_session import HostSession
    from desktop.engine.quiz_ask import model_kind

    machine_at_start = machine()
    load = ForeignLoad()
    load.start()
    start = time.perf_counter()
    session = HostSession()
    store = QuizStore()
    try:
        model = session.load(path, LoadSettings(context_size=CONTEXT, threads=args.threads))
        kind, why = model_kind(model)
        _say(f"{Path(path).name}: asked as {a_kind(kind)} ({why}); {args.threads} threads")
        _say("raw completions:")
        chat = completions(session)
        articles = bundled_articles()
        tokens = token_counts(session, articles)
        lines = []
        for article in articles:
            _say(f"quiz: {article.title}")
            line = quiz_article(session, store, article, kind, model.path)
            print(json.dumps(line), flush=True)
            lines.append(line)
    finally:
        session.close()
        store.close()
    known = [x for x in lines if not x["invented"]]
    summary = {
        "summary": True,
        "model": Path(path).name,
        "sha256": SHA256,
        "asked_as": kind,
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "threads": args.threads,
        "python": platform.python_version(),
        "machine_at_start": machine_at_start,
        "foreign_load": round(load.stop(), 3),
        "seconds": round(time.perf_counter() - start, 1),
        "completions": chat,
        "tokens": tokens,
        "closed_book_accuracy_known": _mean([x["closed_book_accuracy"] for x in known]),
        "open_book_accuracy_all": _mean([x["open_book_accuracy"] for x in lines]),
        "closed_book_accuracy_all": _mean([x["closed_book_accuracy"] for x in lines]),
        "checks": checks(lines),
    }
    print(json.dumps(summary), flush=True)
    return 0


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 3) if kept else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

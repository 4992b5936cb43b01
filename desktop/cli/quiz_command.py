"""`deepdive-lab quiz --model MODEL.gguf --article FILE [--samples K] [--open-book]
[--qa rules|model] [--export-sft OUT.jsonl] [--json]`: what does this model not know?

Questions come from the article by rules (default: works with any model), by the model
itself, or from a JSONL/CSV file (--questions). Each is asked K times closed book (and open
book with --open-book), graded, and given a verdict; the run is stored like the GUI's, so
the Quiz tab lists it. Prints a line per question (a JSON object with --json), then a
summary. Ctrl+C stops after the answer under way; what was answered is kept.
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
    from desktop.core.chat.chat_request import ChatReply, ChatRequest
    from desktop.core.quiz.articles import Article
    from desktop.core.quiz.interrogation import Ask, SampleAnswer
    from desktop.core.quiz.qa import QAPair
    from desktop.core.quiz.results import QuestionResult
    from desktop.core.quiz.settings import QuizSettings


def add_quiz_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    quiz = commands.add_parser("quiz", help="find out what a model doesn't know")
    quiz.add_argument("--model", required=True, help="path to a .gguf file")
    quiz.add_argument("--article", required=True,
                      help="a text, Markdown or HTML file, or a bundled one (velmora)")  # fmt: skip
    quiz.add_argument("--samples", type=int, default=3, help="answers per question (K)")
    quiz.add_argument("--open-book", action="store_true", help="also ask with the article")
    quiz.add_argument("--qa", choices=["rules", "model"], default="rules",
                      help="who writes the questions (default: rules)")  # fmt: skip
    quiz.add_argument("--questions", type=Path, help="read questions from a JSONL/CSV file")
    quiz.add_argument("--count", type=int, default=8, help="how many questions to make")
    quiz.add_argument("--temperature", type=float, default=0.7)
    quiz.add_argument("--judge", action="store_true", help="let the model grade too")
    quiz.add_argument(
        "--ask-as",
        choices=["auto", "base", "instruct"],
        default="auto",
        help="base: continue the article's sentences; instruct: chat questions; "
        "auto (default): read from the model (its name, its chat template)",
    )
    quiz.add_argument(
        "--may-refuse",
        action="store_true",
        help='tell (or show) the model that "I don\'t know" is an answer',
    )
    quiz.add_argument("--seed", type=int, default=0, help="-1: random")
    quiz.add_argument("--context", type=int, default=4096, help="context size in tokens")
    quiz.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    quiz.add_argument("--export-sft", type=Path, help="write the training set (JSONL)")
    quiz.add_argument("--json", action="store_true", help="one JSON line per question")


def find_article(name: str) -> Article:
    from desktop.core.quiz.articles import ArticleError, bundled_articles, load_article

    path = Path(name)
    if not path.exists():
        bundled = [a for a in bundled_articles() if a.path is not None]
        for article in bundled:
            if article.path is not None and article.path.stem == name:
                return article
        names = ", ".join(sorted(a.path.stem for a in bundled if a.path is not None))
        raise ArticleError(f"{name}: no such file. Give a .txt, .md or .html file, or one "
                           f"of the bundled articles: {names}")  # fmt: skip
    return load_article(path)


def quiz_command(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    from desktop.cli.app_database import database_problem_line, store_error_line
    from desktop.core.chat.context_fit import ContextFull
    from desktop.core.chat.generation import LoadSettings
    from desktop.core.quiz.articles import ArticleError
    from desktop.core.quiz.interrogation import interrogate
    from desktop.core.quiz.qa_io import QAFileError, read_pairs
    from desktop.core.quiz.quiz_prompts import a_kind
    from desktop.core.quiz.quiz_store import QuizStore
    from desktop.core.quiz.results import summarize
    from desktop.core.quiz.settings import QuizSettings
    from desktop.core.quiz.sft_export import sft_examples, write_sft_jsonl
    from desktop.core.storage.data_problems import DatabaseProblem
    from desktop.engine.host_session import HostSession, SessionError
    from desktop.engine.quiz_ask import ask, model_kind

    settings = QuizSettings(samples=args.samples, temperature=args.temperature,
                            open_book=args.open_book, judge=args.judge, seed=args.seed,
                            ask_as=args.ask_as, may_refuse=args.may_refuse)  # fmt: skip
    if problems := settings.problems():
        print(f"error: {'; '.join(problems)}", file=err)
        return 2
    if line := database_problem_line():  # before loading the model: the runs are kept there
        print(line, file=err)
        return 2
    try:
        store = QuizStore()
    except (DatabaseProblem, sqlite3.Error) as exc:
        print(store_error_line(exc), file=err)
        return 2
    session = HostSession()
    try:
        article = find_article(args.article)
        pairs = read_pairs(args.questions) if args.questions else None
        model = session.load(args.model, LoadSettings(context_size=args.context,
                                                      threads=args.threads))  # fmt: skip
        kind, why = model_kind(model, settings.ask_as)
        settings = replace(settings, asked_as=kind)
        print(f"asking {Path(model.path).name} as {a_kind(kind)} ({why})", file=err)

        def ask_model(request: ChatRequest) -> ChatReply:
            return ask(session, request)

        pairs = pairs or make_pairs(args, article, ask_model)
        if not pairs:
            why = ("the model wrote no question–answer pairs we could read" if args.qa == "model"
                   else "the article has no sentences with names, dates or numbers")  # fmt: skip
            print(f"error: no questions: {why} (or give --questions FILE)", file=err)
            return 2
        run_id = store.add_run(model.path, article.title, article.text, pairs, settings)
        answers = []
        status = "failed"  # until it ends well, or Ctrl+C makes it "stopped"
        try:
            for answer in interrogate(pairs, article.text, settings, ask_model):
                store.add_answer(run_id, answer)
                answers.append(answer)
                if _question_complete(answer, settings):
                    summary = summarize(pairs, answers, settings)
                    _print_question(summary.questions[answer.question_index], out, args.json)
            status = "done"
        except KeyboardInterrupt:
            status = "stopped"
            raise
        finally:
            store.set_status(run_id, status)
    except (ArticleError, QAFileError, OSError, ContextFull) as exc:
        print(f"error: {exc}", file=err)
        return 2
    except SessionError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except (DatabaseProblem, sqlite3.Error) as exc:
        print(store_error_line(exc), file=err)
        return 2
    except KeyboardInterrupt:
        print("stopped: the answers so far are stored", file=err)
        return 130
    finally:
        session.close()
        store.close()
    summary = summarize(pairs, answers, settings)
    if args.export_sft:
        write_sft_jsonl(args.export_sft, sft_examples(summary.questions, settings))
    figures = {
        "run_id": run_id,
        "questions": len(pairs),
        "closed_book_accuracy": summary.closed_accuracy,
        "open_book_accuracy": summary.open_accuracy,
        "verdicts": summary.verdicts,
        "asked_as": settings.asked_as,
        "may_refuse": settings.may_refuse,
    }
    if args.json:
        out.write(json.dumps({"summary": figures}) + "\n")
    else:
        counts = ", ".join(f"{verdict} {n}" for verdict, n in summary.verdicts.items())
        out.write(f"closed book {_pct(summary.closed_accuracy)}, open book "
                  f"{_pct(summary.open_accuracy)}; {counts}\n")  # fmt: skip
    return 0


def make_pairs(args: argparse.Namespace, article: Article, ask: Ask) -> list[QAPair]:
    from desktop.core.quiz.cloze import cloze_pairs
    from desktop.core.quiz.interrogation import quiz_request
    from desktop.core.quiz.qa_parse import parse_qa_pairs, qa_generation_messages

    if args.qa == "rules":
        return cloze_pairs(article.text, limit=args.count, topic=article.title)
    request = quiz_request(qa_generation_messages(article.text, args.count), temperature=0.3,
                           max_tokens=60 * args.count, seed=0)  # fmt: skip
    reply = ask(request)
    return parse_qa_pairs(reply.text)[: args.count]


def _question_complete(answer: SampleAnswer, settings: QuizSettings) -> bool:
    from desktop.core.quiz.interrogation import modes

    return answer.mode == modes(settings)[-1] and answer.sample == settings.samples - 1


def _print_question(q: QuestionResult, out: TextIO, as_json: bool) -> None:
    closed, opened = q.closed, q.open
    if as_json:
        record = {
            "question": q.pair.question,
            "reference": q.pair.answer,
            "closed_accuracy": closed.accuracy if closed else None,
            "agreement": closed.agreement if closed else None,
            "confidence": round(closed.confidence, 4) if closed else None,
            "verdict": q.verdict,
            "open_accuracy": opened.accuracy if opened else None,
        }
        out.write(json.dumps(record) + "\n")
    else:
        open_text = f", open book {opened.accuracy:.0%}" if opened else ""
        out.write(f"{q.index + 1}. {q.pair.question}  [{q.pair.answer}]  -> {q.verdict} "
                  f"(closed {_pct(closed.accuracy if closed else None)}{open_text})\n")  # fmt: skip
    out.flush()


def _pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "–"

"""Asking the model: each question K times, closed book (question only) and open book (the
article in the prompt), graded as the answers arrive.

`interrogate` is a generator, like training's `train()`: each yielded answer is a progress
report and a cancellation point. It does not know how the model is reached: `ask` is
whatever sends messages to a model and returns its reply (the engine's host session in the
app and the CLI, a script in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Literal

from desktop.core.chat_request import ChatReply, ChatRequest
from desktop.core.context_fit import ContextFull
from desktop.core.generation import ChatMessage, SamplingSettings
from desktop.core.quiz.excerpt import article_excerpt
from desktop.core.quiz.grading import (
    Grade,
    GradeMethod,
    GradeResult,
    grade_answer,
    judge_messages,
    judged,
    parse_judge_reply,
)
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.settings import QuizSettings

Mode = Literal["closed", "open"]

ANSWER_INSTRUCTION = (
    "Answer the question with only the answer: a name, a number, a date or a few words. "
    "No explanation."
)
MIN_EXCERPT_CHARS = 80  # below this an open-book prompt holds too little to be a book


Ask = Callable[[ChatRequest], ChatReply]


def quiz_request(
    messages: Sequence[ChatMessage], *, temperature: float, max_tokens: int, seed: int
) -> ChatRequest:
    """A quiz asks with each token's probability, and never drops part of its prompt."""
    sampling = SamplingSettings(temperature=temperature, max_tokens=max_tokens, seed=seed)
    return ChatRequest(tuple(messages), sampling, overflow="stop", top_alternatives=1)


def answer_confidence(reply: ChatReply) -> float:
    """Mean token probability of the answer: how sure the model was of the words it chose.
    Only the answer line's tokens count (an explanation after it is not the answer)."""
    probs = reply.token_probs[: _answer_token_count(reply.token_texts)]
    return fmean(probs) if probs else 0.0


def _answer_token_count(texts: Sequence[str]) -> int:
    """Tokens up to and including the one that ends the first non-empty line."""
    seen = ""
    for n, text in enumerate(texts, 1):
        seen += text
        if "\n" in seen.lstrip() and seen.strip():
            return n
    return len(texts)


@dataclass(frozen=True)
class SampleAnswer:
    question_index: int
    mode: Mode
    sample: int
    text: str
    confidence: float
    grade: Grade
    method: GradeMethod
    article_share: float = 1.0  # open book: the share of the article the prompt held

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.question_index, self.mode, self.sample)


def closed_book_messages(question: str) -> list[ChatMessage]:
    return [ChatMessage("system", ANSWER_INSTRUCTION), ChatMessage("user", question)]


def open_book_messages(question: str, article: str) -> list[ChatMessage]:
    user = (
        f"Read this article, then answer the question.\n\n{article.strip()}\n\nQuestion: {question}"
    )
    return [ChatMessage("system", ANSWER_INSTRUCTION), ChatMessage("user", user)]


def modes(settings: QuizSettings) -> tuple[Mode, ...]:
    return ("closed", "open") if settings.open_book else ("closed",)


def total_asks(question_count: int, settings: QuizSettings) -> int:
    return question_count * settings.samples * len(modes(settings))


def answer_line(text: str) -> str:
    """The answer is the reply's first non-empty line (models like to add an explanation)."""
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def interrogate(
    pairs: Sequence[QAPair],
    article: str,
    settings: QuizSettings,
    ask: Ask,
    done: Collection[tuple[int, str, int]] = (),
) -> Iterator[SampleAnswer]:
    """Ask every question K times closed book, then every question K times open book.

    That order is for llama.cpp's prompt cache: the K samples of a prompt follow each other,
    and the open-book prompts, which share everything up to the end of the article, follow
    each other too, so the article is read once, not once per question. `done` keys are
    skipped: a stopped run resumes where it ended."""
    for mode in modes(settings):
        for index, pair in enumerate(pairs):
            context = article
            for sample in range(settings.samples):
                if (index, mode, sample) in done:
                    continue
                seed = -1 if settings.seed < 0 else settings.seed + 7919 * index + 2 * sample
                request = _asker(pair.question, settings, seed)
                reply, context = _ask_fitting(ask, request, mode, context)
                answer = answer_line(reply.text)
                result = grade_answer(answer, pair.answer)
                if settings.judge and result.grade != "NOT_ATTEMPTED":
                    result = _judge(ask, pair, answer, context) or result
                share = len(context) / len(article) if mode == "open" and article else 1.0
                yield SampleAnswer(index, mode, sample, answer, answer_confidence(reply),
                                   result.grade, result.method, min(1.0, share))  # fmt: skip


def _asker(question: str, settings: QuizSettings, seed: int) -> Callable[[str | None], ChatRequest]:
    """The request for a question, closed book (None) or with an article text."""

    def request(article: str | None) -> ChatRequest:
        messages = (closed_book_messages(question) if article is None
                    else open_book_messages(question, article))  # fmt: skip
        return quiz_request(messages, temperature=settings.temperature,
                            max_tokens=settings.max_tokens, seed=seed)  # fmt: skip

    return request


def _judge(ask: Ask, pair: QAPair, answer: str, article: str) -> GradeResult | None:
    """The model's own grade; None (keep the rule's) if it is unreadable or cannot fit."""
    messages = judge_messages(pair.question, pair.answer, answer, article)
    try:
        reply = ask(quiz_request(messages, temperature=0.0, max_tokens=12, seed=0))
    except ContextFull:
        return None
    verdict = parse_judge_reply(reply.text)
    return judged(verdict) if verdict is not None else None


def _ask_fitting(
    ask: Ask, request: Callable[[str | None], ChatRequest], mode: Mode, article: str
) -> tuple[ChatReply, str]:
    """Ask; an open-book prompt too long for the model's context is asked again with an
    excerpt of the article that fits - the paragraphs, then the sentences, that share the
    most words with the question (returned, so the next samples start from it)."""
    if mode == "closed":
        return ask(request(None)), article
    question = request(None).messages[-1].content
    while True:
        try:
            return ask(request(article)), article
        except ContextFull as exc:
            # Characters scale with tokens; 0.9 leaves room for the estimate's error, and
            # each round cuts at least a tenth, so this ends.
            budget = min(int(len(article) * exc.limit / exc.tokens * 0.9),
                         len(article) * 9 // 10)  # fmt: skip
            if budget < MIN_EXCERPT_CHARS:
                raise
            article = article_excerpt(article, question, budget)

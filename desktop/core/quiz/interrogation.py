"""Asking the model: each question K times, closed book (question only) and open book (the
article in the prompt), graded as the answers arrive.

`interrogate` is a generator, like training's `train()`: each yielded answer is a progress
report and a cancellation point. It does not know how the model is reached: `ask` is
whatever sends a request to a model and returns its reply (the engine's host session in
the app and the CLI, a script in tests). How each question is put - a chat question or a
continuation - is `quiz_prompts`' part; every answer carries the exact prompt it got.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Literal

from desktop.core.chat.chat_request import ChatReply, ChatRequest
from desktop.core.chat.context_fit import ContextFull
from desktop.core.chat.generation import ChatMessage, SamplingSettings
from desktop.core.chat.prompt_builder import PromptMode, raw_text
from desktop.core.models.model_kind import ModelKind
from desktop.core.quiz.cloze import split_sentences
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
from desktop.core.quiz.quiz_prompts import (
    ANSWER_INSTRUCTION,
    PromptForm,
    QuizRequest,
    prompt_form,
    quiz_messages,
    request_stops,
)
from desktop.core.quiz.settings import QuizSettings

Mode = Literal["closed", "open"]
MIN_EXCERPT_CHARS = 80  # below this an open-book prompt holds too little to be a book
__all__ = ["ANSWER_INSTRUCTION", "Ask", "AskedPrompt", "Mode", "SampleAnswer", "interrogate"]

Ask = Callable[[ChatRequest], ChatReply]


def quiz_request(
    messages: Sequence[ChatMessage],
    *,
    temperature: float,
    max_tokens: int,
    seed: int,
    mode: PromptMode | None = None,
    stops: tuple[str, ...] = (),
) -> QuizRequest:
    """A quiz asks with each token's probability, and never drops part of its prompt."""
    sampling = SamplingSettings(temperature=temperature, max_tokens=max_tokens, seed=seed)
    return QuizRequest(tuple(messages), sampling, mode=mode, overflow="stop",
                       top_alternatives=1, stops=stops)  # fmt: skip


def answer_confidence(reply: ChatReply, answer: str | None = None) -> float:
    """Mean token probability of the answer: how sure the model was of the words it chose.
    Only the answer's tokens count (an explanation or the rest of a continuation is not
    the answer); without `answer`, those of the reply's first non-empty line."""
    answer = answer_line(reply.text) if answer is None else answer
    probs = reply.token_probs[: _answer_token_count(reply.token_texts, answer)]
    return fmean(probs) if probs else 0.0


def _answer_token_count(texts: Sequence[str], answer: str) -> int:
    """Tokens up to the one that completes the answer's text."""
    seen = ""
    for n, text in enumerate(texts, 1):
        seen += text
        if answer and len(seen.strip()) >= len(answer):
            return n
    return len(texts)


@dataclass(frozen=True)
class AskedPrompt:
    """The exact text a question was asked with in one mode, kept with the run."""

    text: str
    stops: tuple[str, ...]
    form: PromptForm
    tokens: int = 0  # as the model counted them; 0 when not known
    article_share: float = 1.0  # open book: the share of the article the prompt held


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
    prompt: AskedPrompt | None = None  # None for answers read back from the store

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.question_index, self.mode, self.sample)


def modes(settings: QuizSettings) -> tuple[Mode, ...]:
    return ("closed", "open") if settings.open_book else ("closed",)


def total_asks(question_count: int, settings: QuizSettings) -> int:
    return question_count * settings.samples * len(modes(settings))


# Control tokens a model may write as text mid-line (Gemma's "<start_of_image>", ChatML's
# "<|im_end|>", "</s>"): the answer ends there, as it would at a line end.
_CONTROL = re.compile(r"<\|[^<>|\s]{1,40}\|>|<(?:start|end)_of_[a-z_]{1,20}>|</?s>")


def answer_line(text: str) -> str:
    """The answer is the reply's first non-empty line (models like to add an explanation)."""
    for line in _CONTROL.sub("\n", text).strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def continuation_answer(text: str) -> str:
    """A base model's continuation answers with its first sentence: "July 16, 1969. The
    crew …" answers "July 16, 1969." (abbreviations and decimals do not end it)."""
    line = answer_line(text)
    sentences = split_sentences(line)
    return sentences[0] if sentences else line


def asked_kind(settings: QuizSettings) -> ModelKind:
    """How a run asks: as recorded when it started (runs from before that chatted)."""
    return "base" if settings.asked_as == "base" else "instruct"


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
    kind = asked_kind(settings)
    for mode in modes(settings):
        for index, pair in enumerate(pairs):
            form = prompt_form(pair, kind, settings.may_refuse)
            context = article
            for sample in range(settings.samples):
                if (index, mode, sample) in done:
                    continue
                seed = -1 if settings.seed < 0 else settings.seed + 7919 * index + 2 * sample
                request = _asker(pair, form, settings, seed)
                reply, sent, context = _ask_fitting(ask, request, mode, context, pair)
                answer = (continuation_answer(reply.text) if form == "continuation"
                          else answer_line(reply.text))  # fmt: skip
                result = grade_answer(answer, pair.answer)
                if settings.judge and result.grade != "NOT_ATTEMPTED":
                    result = _judge(ask, pair, answer, context) or result
                share = len(context) / len(article) if mode == "open" and article else 1.0
                share = min(1.0, share)
                prompt = _asked_prompt(sent, reply, form, share)
                yield SampleAnswer(index, mode, sample, answer, answer_confidence(reply, answer),
                                   result.grade, result.method, share, prompt)  # fmt: skip


def _asked_prompt(
    request: ChatRequest, reply: ChatReply, form: PromptForm, share: float
) -> AskedPrompt:
    """The prompt as the engine built it; a scripted `ask` reports none, and then a raw
    prompt is its text and a chat one its messages, labelled."""
    extra = request_stops(request)
    if reply.prompt is not None:
        plan = reply.prompt.plan
        stops = plan.stops + tuple(s for s in extra if s not in plan.stops)
        return AskedPrompt(plan.text, stops, form, reply.prompt.prompt_tokens, share)
    if request.mode == "raw":
        text = raw_text(request.messages)
    else:
        text = "\n\n".join(f"[{m.role}]\n{m.content}" for m in request.messages)
    return AskedPrompt(text, extra, form, 0, share)


def _asker(
    pair: QAPair, form: PromptForm, settings: QuizSettings, seed: int
) -> Callable[[str | None], QuizRequest]:
    """The request for a question, closed book (None) or with an article text."""

    def request(article: str | None) -> QuizRequest:
        messages, mode, stops = quiz_messages(pair, form, settings.may_refuse, article)
        return quiz_request(messages, temperature=settings.temperature,
                            max_tokens=settings.max_tokens, seed=seed, mode=mode,
                            stops=stops)  # fmt: skip

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
    ask: Ask, request: Callable[[str | None], QuizRequest], mode: Mode, article: str, pair: QAPair
) -> tuple[ChatReply, QuizRequest, str]:
    """Ask; an open-book prompt too long for the model's context is asked again with an
    excerpt of the article that fits - the paragraphs, then the sentences, that share the
    most words with the question (returned, so the next samples start from it)."""
    if mode == "closed":
        sent = request(None)
        return ask(sent), sent, article
    words = f"{pair.question} {pair.stem}"
    while True:
        sent = request(article)
        try:
            return ask(sent), sent, article
        except ContextFull as exc:
            # Characters scale with tokens; 0.9 leaves room for the estimate's error, and
            # each round cuts at least a tenth, so this ends.
            budget = min(int(len(article) * exc.limit / exc.tokens * 0.9),
                         len(article) * 9 // 10)  # fmt: skip
            if budget < MIN_EXCERPT_CHARS:
                raise
            article = article_excerpt(article, words, budget)

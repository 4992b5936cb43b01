"""How the quiz asks a model: the way that model answers, or the quiz measures its prompt.

* An **instruct model** (it was trained to chat: it has a chat template) gets the question
  as a chat message, after a one-line instruction to answer briefly.
* A **base model** only continues documents. It gets the article's sentence up to the
  missing fact and continues it ("... launched from Kennedy Space Center in Florida on"
  → " 16 July 1969"); its answer is the first sentence of the continuation. A question
  without such a stem (typed, model-written) is asked as a "Question: … / Answer:" list,
  whose worked examples are short facts.

No prompt teaches refusing unless "may say I don't know" is on: an example "I don't know"
makes a small model say it to everything, and the quiz would measure the example. When it
is on, the instruction says a refusal is fine (instruct), or the question list holds one
refusal (base; a continuation has no place for one, so base models are then asked
questions, not continuations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.generation import ChatMessage
from desktop.core.chat.prompt_builder import PromptMode, TemplateInfo
from desktop.core.models.model_kind import ModelKind, detect_kind
from desktop.core.quiz.qa import QAPair

AskAs = Literal["auto", "base", "instruct"]
PromptForm = Literal["continuation", "question list", "chat"]
FORM_LABELS: dict[PromptForm, str] = {
    "continuation": "continue the article's sentence",
    "question list": "Question: … Answer: …",
    "chat": "a chat question",
}

ANSWER_INSTRUCTION = (
    "Answer the question with only the answer: a name, a number, a date or a few words. "
    "No explanation."
)
REFUSAL_INSTRUCTION = ' If you do not know the answer, say "I don\'t know".'
REFUSAL = "I don't know"
# Worked examples of the question list: one name, one year, one symbol; nothing a bundled
# article asks about, and not one refusal.
QA_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Who painted the Mona Lisa?", "Leonardo da Vinci"),
    ("In which year did the Berlin Wall fall?", "1989"),
    ("What is the chemical symbol for gold?", "Au"),
)
REFUSAL_EXAMPLE = ("What did the first mayor of Brenholt eat on 2 May 1712?", REFUSAL)
LINE_END = ("\n",)  # a base model's answer is one line: generation stops at its end


@dataclass(frozen=True)
class QuizRequest(ChatRequest):
    """A quiz ask: a ChatRequest plus stop strings of its own (a base model's answer ends
    at the end of its line; the raw prompt mode has no stops of its own)."""

    stops: tuple[str, ...] = ()


def request_stops(request: ChatRequest) -> tuple[str, ...]:
    return request.stops if isinstance(request, QuizRequest) else ()


def a_kind(kind: str) -> str:
    """ "a base model", "an instruct model"."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} model"


def resolve_kind(ask_as: str, template: TemplateInfo, names: Sequence[str]) -> ModelKind:
    if ask_as in ("base", "instruct"):
        return "base" if ask_as == "base" else "instruct"
    return detect_kind(template, names)[0]


def prompt_form(pair: QAPair, kind: ModelKind, may_refuse: bool) -> PromptForm:
    if kind == "instruct":
        return "chat"
    return "continuation" if pair.stem.strip() and not may_refuse else "question list"


def question_list(question: str, may_refuse: bool) -> str:
    examples = [*QA_EXAMPLES, REFUSAL_EXAMPLE] if may_refuse else list(QA_EXAMPLES)
    shots = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in examples)
    return f"{shots}Question: {question.strip()}\nAnswer:"


def quiz_messages(
    pair: QAPair, form: PromptForm, may_refuse: bool, article: str | None
) -> tuple[list[ChatMessage], PromptMode, tuple[str, ...]]:
    """The messages for one ask, the prompt mode that turns them into text, and the stops.
    `article` None is closed book; open book puts the article (or an excerpt) first."""
    book = f"{article.strip()}\n\n" if article is not None else ""
    if form == "chat":
        system = ANSWER_INSTRUCTION + (REFUSAL_INSTRUCTION if may_refuse else "")
        user = (pair.question if article is None else
                f"Read this article, then answer the question.\n\n{book}Question: "
                f"{pair.question}")  # fmt: skip
        return [ChatMessage("system", system), ChatMessage("user", user)], "template", ()
    if form == "continuation":
        # With the article there, the stem's title line would repeat it: the sentence only.
        stem = pair.stem.strip() if article is None else pair.stem.strip().split("\n\n")[-1]
        return [ChatMessage("user", book + stem)], "raw", LINE_END
    return [ChatMessage("user", book + question_list(pair.question, may_refuse))], "raw", LINE_END

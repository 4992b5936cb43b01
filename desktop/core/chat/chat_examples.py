"""Built-in things to try in the Chat tab, each with what its answer shows - the talk's
lessons about base models, assistants and what a model cannot know."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.chat.prompt_builder import PromptMode


@dataclass(frozen=True)
class ChatExample:
    title: str
    text: str
    mode: PromptMode | None  # the mode that shows the lesson (None: keep the current one)
    note: str  # what to look at in the answer
    use_code: bool = False  # turns "Use code" on: the model may run Python


CHAT_EXAMPLES: tuple[ChatExample, ...] = (
    ChatExample(
        "A base model continues text",
        "The Eiffel Tower is located in the city of",
        "raw",
        "Raw text: the model just continues the document. A base model is an internet-"
        "document simulator: it knows Paris because the web says so, and it will go on "
        "writing as long as you let it.",
    ),
    ChatExample(
        "It makes things up just as fluently",
        "The island of Velmora is located in the",
        "raw",
        "Velmora does not exist. A base model continues with the same confidence as for "
        "Paris: this is a hallucination, and the Quiz tab measures how often it happens.",
    ),
    ChatExample(
        "An assistant out of a prompt",
        "Who wrote Romeo and Juliet?",
        "base",
        "Base model as assistant: the identity and example exchanges (Edit identity and "
        "examples…) make the likeliest continuation an answer. Compare with Raw text, "
        "where the same question may simply be followed by more questions.",
    ),
    ChatExample(
        "Knowledge cutoff: the news",
        "What happened in the news yesterday?",
        None,
        "The model knows nothing after its training data was collected, and nothing about "
        "today: an answer here is either a refusal or an invented story told as news.",
    ),
    ChatExample(
        "Knowledge cutoff: the year",
        "What year is it?",
        None,
        "It has no clock. It answers with a year that was common in its training data - "
        "often the year it was trained - not today's.",
    ),
    ChatExample(
        "Counting letters",
        "How many r's are in the word raspberry?",
        None,
        "Models see tokens, not letters (look at 'raspberry' in the Tokens tab): counting "
        "letters is hard for them, and they often answer 2.",
    ),
    ChatExample(
        "Let it use code",
        "How many r's are in 'raspberry'?",
        None,
        "Use code is on: the model may write a program instead of guessing, and you approve "
        "it before it runs in the sandbox. A program counts letters exactly — if the model "
        "calls it (small models often do not; chat models trained on tools do).",
        use_code=True,
    ),
)
